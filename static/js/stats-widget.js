// The statistics widget refreshes itself every 30 seconds (htmx polling). WCAG 2.2.2 asks
// that such updates can be paused, and an update must never take focus away: htmx swaps
// the whole widget, so a focused link inside it would vanish and focus fall to <body>.
// So an update is skipped while focus is inside the widget or while it is paused, and
// the Pause button (hidden without JavaScript, where nothing updates) says which it is.
(function () {
  "use strict";
  if (window.BYOKStatsWidget) return; // a host page may render the widget more than once
  var paused = false;
  window.BYOKStatsWidget = { isPaused: function () { return paused; } };

  function widgets(root) {
    var found = Array.prototype.slice.call((root || document).querySelectorAll(".stats-widget"));
    if (root && root.matches && root.matches(".stats-widget")) found.push(root);
    return found;
  }

  function show(widget) {
    var button = widget.querySelector(".stats-pause");
    if (!button) return;
    button.hidden = false;
    button.setAttribute("aria-pressed", paused ? "true" : "false");
    button.textContent = paused ? "Resume updates" : "Pause updates";
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".stats-pause");
    if (!button) return;
    paused = !paused;
    widgets().forEach(show);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var widget = event.target;
    if (!widget.matches || !widget.matches(".stats-widget")) return;
    if (paused || widget.contains(document.activeElement)) event.preventDefault();
  });

  document.addEventListener("htmx:load", function (event) { widgets(event.target).forEach(show); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { widgets().forEach(show); });
  } else {
    widgets().forEach(show);
  }
})();

// After an htmx swap of a form's section, put the keyboard where the answer is, as a page
// load would put the reader at the top: on the first field with an error, else on the
// outcome (the thank-you note or the polite limit message). Without this, focus falls to
// <body> when the focused button is swapped out, and the next Tab skips past the form.
// What the answer says is announced by base.html's live region (#announcer), filled out
// of band by the server (templates/_announce.html).
// Scripts run: hide what only a visitor without JavaScript needs (.no-js-only).
document.documentElement.classList.add("js");

(function () {
  "use strict";

  function firstInvalidField(root) {
    var invalid = root.querySelector('[aria-invalid="true"]');
    if (!invalid) return null;
    if (invalid.matches("input, select, textarea")) return invalid;
    return invalid.querySelector("input, select, textarea"); // a fieldset of radios
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var section = event.target;
    if (!section.matches || !section.matches("[data-focus-after-swap]")) return;
    var target = firstInvalidField(section) || section.querySelector(".form-outcome");
    if (target) target.focus();
  });
})();

// Wide screens show the filters as an always-open sidebar (site.css shows them even while
// the <details> is closed, for visitors without JavaScript); mark it open so screen
// readers are told the same.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 992px)");
  function openOnWideScreens() {
    document.querySelectorAll(".filters-disclosure").forEach(function (details) {
      var summary = details.querySelector("summary");
      if (wide.matches) {
        details.open = true;
        summary.tabIndex = -1; // only a title there: no Tab stop that toggles nothing
      } else {
        summary.removeAttribute("tabindex");
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openOnWideScreens);
  } else {
    openOnWideScreens();
  }
  wide.addEventListener("change", openOnWideScreens);
})();

// A focused link in a scrolling table is brought wholly into view, clear of the sticky
// first column (site.css gives the scroller a matching scroll-padding). Chromium scrolls
// a focused element only when none of it shows, and leaves one that is half out of view.
document.addEventListener("focusin", function (event) {
  var target = event.target;
  var scroller = target.closest && target.closest(".table-scroll");
  if (scroller && scroller !== target) target.scrollIntoView({ block: "nearest", inline: "nearest" });
});

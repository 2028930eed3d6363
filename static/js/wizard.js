// Each wizard step swaps in place: move focus to its heading, as a page load would.
// (base.html's htmx-config lets the polite 429 "over the limit" answer swap in too.)
document.addEventListener("htmx:afterSettle", function (event) {
  if (event.target.id !== "wizard") return;
  var heading = document.getElementById("wizard-heading");
  if (heading) heading.focus({ preventScroll: true });
});

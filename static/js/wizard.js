// Each wizard step swaps in place: move focus where a page load would put the reader, the
// step's heading, or the first field with an error when the step came back with errors.
// (base.html's htmx-config lets the polite 429 "over the limit" answer swap in too.)
document.addEventListener("htmx:afterSettle", function (event) {
  if (event.target.id !== "wizard") return;
  var invalid = event.target.querySelector('[aria-invalid="true"]');
  if (invalid && !invalid.matches("input, select, textarea")) {
    invalid = invalid.querySelector("input, select, textarea"); // a fieldset of radios
  }
  var target = invalid || document.getElementById("wizard-heading");
  if (target) target.focus({ preventScroll: !invalid });
});

// Step 3: the provider ticked goes into this step's address at once, so that coming back
// to it (browser Back from step 4) shows it still ticked. htmx's own history entry is
// kept: only its URL changes.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches('.wizard-choose input[type="radio"][name="p"]')) return;
  var url = new URL(window.location.href);
  url.searchParams.set("p", input.value);
  window.history.replaceState(window.history.state, "", url.toString());
});

// Back from a provider's one-click key page, the address holds its one-time code: show
// step 6's own address instead, so a refresh or a bookmark is plain step 6.
(function () {
  function useCanonicalUrl() {
    var wizard = document.getElementById("wizard");
    var canonical = wizard && wizard.getAttribute("data-canonical-url");
    if (!canonical) return;
    var url = new URL(canonical, window.location.href);
    if (url.pathname !== window.location.pathname) {
      window.history.replaceState(window.history.state, "", url.toString());
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", useCanonicalUrl);
  else useCanonicalUrl();
})();

// Keeps a key-shaped value typed or pasted into a search box (any input[type=search]) or a
// field marked data-refuse-keys from leaving the browser. The server refuses any URL that
// holds a key (byok_site/middleware.py), but by then the key has crossed the network and
// may sit in a proxy's log; this stops the htmx request and the plain form submit first,
// and says why beside the field.
//
// The detector is registry/secrets.py's looks_like_secret(), ported: the same normalising
// (NFKC, invisible characters dropped, a key split over lines joined) and the same
// patterns, copied verbatim (tests/browser/test_search_guard.py checks both).
(function () {
  "use strict";

  var SECRET_RE = new RegExp(String.raw`(?<![A-Za-z0-9_\-])(?:sk-ant-[A-Za-z0-9_\-]{8,}|sk-or-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_\-]{20,}|xai-[A-Za-z0-9_\-]{16,}|r8_[A-Za-z0-9]{16,}|nvapi-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|pplx-[A-Za-z0-9]{16,}|fw_[A-Za-z0-9]{16,}|csk-[A-Za-z0-9]{16,}|(?=[A-Za-z0-9_\-]*[0-9])(?=[A-Za-z0-9_\-]*[A-Za-z])(?=[A-Za-z0-9_\-]*[A-Za-z0-9]{16})[A-Za-z0-9_\-]{32,})(?![A-Za-z0-9_\-])`, "g");
  var SPLIT_SECRET_RE = new RegExp(String.raw`(?<![A-Za-z0-9_\-])(?:sk-ant-[A-Za-z0-9_\-]{8,}|sk-or-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_\-]{20,}|xai-[A-Za-z0-9_\-]{16,}|r8_[A-Za-z0-9]{16,}|nvapi-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|pplx-[A-Za-z0-9]{16,}|fw_[A-Za-z0-9]{16,}|csk-[A-Za-z0-9]{16,}|(?=[A-Za-z0-9]*[0-9])(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{32,})(?![A-Za-z0-9_\-])`);
  var PREFIXED_RE = new RegExp("^" + String.raw`(?:sk-ant-[A-Za-z0-9_\-]{8,}|sk-or-[A-Za-z0-9_\-]{8,}|sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{16,}|gsk_[A-Za-z0-9]{16,}|AIza[A-Za-z0-9_\-]{20,}|xai-[A-Za-z0-9_\-]{16,}|r8_[A-Za-z0-9]{16,}|nvapi-[A-Za-z0-9_\-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|pplx-[A-Za-z0-9]{16,}|fw_[A-Za-z0-9]{16,}|csk-[A-Za-z0-9]{16,})` + "$");
  var GIT_HASH_RE = new RegExp("^" + String.raw`[0-9a-f]{40}` + "$");
  var DIGEST_LABEL_RE = new RegExp(String.raw`(?:sha1|sha224|sha256|sha384|sha512|md5)[:=]$`, "i");
  var HEX_RE = new RegExp("^" + String.raw`[0-9a-fA-F]+` + "$");
  var TOKEN_LINE_RE = new RegExp("^" + String.raw`[A-Za-z0-9_\-]+` + "$");

  var INVISIBLE = /[\p{Cf}\p{Mn}\p{Me}\p{Co}\p{Cn}\u115f\u1160\u3164\uffa0\u2800]/gu;
  var CONTROL = /\p{Cc}/gu;
  var KEPT_CONTROLS = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85";
  var LINE_BREAK = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/;
  var KEY_CHARACTER = /[A-Za-z0-9_\-]/;

  var GUARDED = 'input[type="search"], [data-refuse-keys]';
  var MESSAGE =
    "This looks like an API key, so it was not sent. Never put a key in a search box " +
    "or a URL. If it is a real key, revoke it in your provider's dashboard.";

  function visibleText(text) {
    return text
      .normalize("NFKC")
      .replace(INVISIBLE, "")
      .replace(CONTROL, function (c) { return KEPT_CONTROLS.indexOf(c) >= 0 ? c : ""; });
  }

  function joinSplitLines(text) {
    var lines = text.split(LINE_BREAK);
    if (lines.length < 2) return text;
    var joined = lines[0];
    for (var i = 1; i < lines.length; i++) {
      var tail = lines[i - 1].trimEnd();
      var head = lines[i].trimStart();
      var splitsAToken =
        KEY_CHARACTER.test(tail.slice(-1)) &&
        KEY_CHARACTER.test(head.slice(0, 1)) &&
        (TOKEN_LINE_RE.test(tail.trimStart()) || TOKEN_LINE_RE.test(head.trimEnd()));
      joined = splitsAToken ? joined.trimEnd() + head : joined + "\n" + lines[i];
    }
    return joined;
  }

  function isKey(match, text) {
    var token = match[0];
    if (PREFIXED_RE.test(token)) return true;
    if (GIT_HASH_RE.test(token)) return false;
    var before = text.slice(Math.max(0, match.index - 8), match.index);
    return !(DIGEST_LABEL_RE.test(before) && HEX_RE.test(token));
  }

  function looksLikeSecret(text) {
    if (!text) return false;
    var visible = visibleText(String(text));
    SECRET_RE.lastIndex = 0;
    var match;
    while ((match = SECRET_RE.exec(visible)) !== null) {
      if (isKey(match, visible)) return true;
    }
    var joined = joinSplitLines(visible);
    return joined !== visible && SPLIT_SECRET_RE.test(joined);
  }

  // --- the message beside the field ------------------------------------------------------

  function messageFor(field, create) {
    var id = (field.id || field.name || "field") + "-key-refused";
    var message = document.getElementById(id);
    if (!message && create) {
      message = document.createElement("p");
      message.id = id;
      message.className = "message message-error key-refused";
      message.setAttribute("role", "alert");
      message.textContent = MESSAGE;
      field.insertAdjacentElement("afterend", message);
    }
    return message;
  }

  function markRefused(field) {
    messageFor(field, true);
    field.setAttribute("aria-invalid", "true");
    var described = (field.getAttribute("aria-describedby") || "").split(" ");
    var id = messageFor(field, false).id;
    if (described.indexOf(id) < 0) {
      field.setAttribute("aria-describedby", described.concat(id).join(" ").trim());
    }
  }

  function clearRefused(field) {
    var message = messageFor(field, false);
    if (!message) return;
    message.remove();
    field.removeAttribute("aria-invalid");
    var described = (field.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter(function (id) { return id && id !== message.id; });
    if (described.length) field.setAttribute("aria-describedby", described.join(" "));
    else field.removeAttribute("aria-describedby");
  }

  // A request is refused when a guarded field's value, about to be sent, looks like a
  // key. Only guarded fields: other values (the wizard's signed start time, say) are the
  // site's own, and the server checks every URL anyway.
  function refusedFields(form, values) {
    var refused = [];
    values.forEach(function (pair) {
      var name = pair[0];
      var value = pair[1];
      var field = form && form.elements ? form.elements.namedItem(name) : null;
      if (field && !field.tagName) field = field[0]; // a RadioNodeList: several of that name
      // A field brought in from outside the form (hx-include) is found by its name.
      if (!field) {
        field = Array.prototype.find.call(document.querySelectorAll(GUARDED), function (each) {
          return each.name === name;
        });
      }
      if (field && field.matches(GUARDED) && typeof value === "string" && looksLikeSecret(value)) {
        refused.push(field);
      }
    });
    return refused;
  }

  function refuse(event, fields) {
    if (!fields.length) return;
    event.preventDefault();
    fields.forEach(markRefused);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var detail = event.detail;
    var form = detail.elt.closest("form") || detail.elt;
    var values = [];
    detail.formData.forEach(function (value, name) { values.push([name, value]); });
    refuse(event, refusedFields(form, values));
  });

  // A plain submit (Enter in the search box, or htmx not loaded): capture phase, so this
  // runs before htmx and before the browser navigates.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var values = [];
      new FormData(form).forEach(function (value, name) { values.push([name, value]); });
      refuse(event, refusedFields(form, values));
    },
    true
  );

  // Say so as soon as the value looks like a key, and stop saying so once it does not.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches(GUARDED)) return;
    if (looksLikeSecret(field.value)) markRefused(field);
    else clearRefused(field);
  });

  window.BYOK = window.BYOK || {};
  window.BYOK.looksLikeSecret = looksLikeSecret;
})();

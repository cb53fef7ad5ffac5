// Session expiry under htmx (issue 15). When an htmx answer sends the page to the sign-in
// page (HX-Redirect from core.middleware.HtmxLoginRedirectMiddleware, with next= this
// page), what was typed in the page's forms is saved in this tab's sessionStorage, keyed
// by the page's URL and each form's id; after signing in the user lands back on the page
// and the values are put back, with a notice to check them and submit again. Nothing is
// sent anywhere; passwords, hidden fields and files are never kept; a saved page is used
// once, only by the same user, and only within SESSION_ABSOLUTE_TIMEOUT (12 h).
(function () {
  "use strict";
  var script = document.currentScript;
  var loginPath = (script && script.getAttribute("data-login-url")) || "/login/";
  var restoredText = (script && script.getAttribute("data-restored")) || "";
  // Whose typing it is: on a shared tablet, another user signing in at this tab must not
  // find (and submit under their name) what the previous user typed.
  var userId = (script && script.getAttribute("data-user")) || "";
  var PREFIX = "kept-forms:";
  var MAX_AGE_MS = 12 * 3600 * 1000;
  var SKIPPED_TYPES = ["password", "hidden", "file", "submit", "button", "reset", "image"];

  function pageKey() { return PREFIX + location.pathname + location.search; }

  function formKey(form, index) {
    return form.id || form.getAttribute("action") || "form-" + index;
  }

  function skipped(el) {
    var type = (el.type || "").toLowerCase();
    return !el.name || el.disabled || el.name === "csrfmiddlewaretoken" ||
      SKIPPED_TYPES.indexOf(type) >= 0;
  }

  function defaultOf(select) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].defaultSelected) return select.options[i].value;
    }
    return select.options.length ? select.options[0].value : "";
  }

  function typed(form) {
    var values = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (skipped(el)) continue;
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (el.checked !== el.defaultChecked) values.push([el.name, el.value, el.checked]);
      } else if (el.tagName === "SELECT" && !el.multiple) {
        if (el.value !== defaultOf(el)) values.push([el.name, el.value]);
      } else if (el.tagName !== "SELECT" && el.value !== el.defaultValue) {
        values.push([el.name, el.value]);
      }
    }
    return values;
  }

  function save() {
    var forms = document.querySelectorAll("form");
    var kept = {};
    var any = false;
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].hasAttribute("data-no-keep")) continue;
      var values = typed(forms[i]);
      if (values.length) { kept[formKey(forms[i], i)] = values; any = true; }
    }
    if (!any) return;
    try {
      sessionStorage.setItem(
        pageKey(), JSON.stringify({ at: Date.now(), user: userId, forms: kept })
      );
    } catch (e) { /* storage full or disabled: nothing to keep */ }
  }

  function put(form, entry) {
    var items = form.querySelectorAll("[name]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      if (el.name !== entry[0] || skipped(el)) continue;
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        if (el.value !== entry[1]) continue;
        el.checked = entry[2];
      } else {
        el.value = entry[1];
      }
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
      return true;
    }
    return false;
  }

  function restore() {
    var raw = null;
    try {
      raw = sessionStorage.getItem(pageKey());
      sessionStorage.removeItem(pageKey());
    } catch (e) { return; }
    if (!raw) return;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data || !data.forms || Date.now() - data.at > MAX_AGE_MS) return;
    if (!userId || data.user !== userId) return; // someone else's typing: dropped
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var values = data.forms[formKey(forms[i], i)];
      if (!values) continue;
      var done = false;
      for (var j = 0; j < values.length; j++) done = put(forms[i], values[j]) || done;
      if (done && restoredText) {
        var note = document.createElement("p");
        note.className = "msg warning kept-forms-note";
        note.setAttribute("role", "status");
        note.textContent = restoredText;
        forms[i].insertBefore(note, forms[i].firstChild);
      }
    }
  }

  document.addEventListener("htmx:beforeOnLoad", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    var to = xhr && xhr.getResponseHeader("HX-Redirect");
    if (to && to.split("?")[0] === loginPath) save();
  });

  // A 401 from anything else (an API behind the same session): same, then sign in.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (!xhr || xhr.status !== 401) return;
    save();
    location.href = loginPath + "?next=" + encodeURIComponent(location.pathname + location.search);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restore);
  } else {
    restore();
  }
})();

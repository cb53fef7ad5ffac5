// Feedback where the hands are (issue 15): the chart renders the result of an htmx action
// next to the control that caused it ([data-feedback]). Keep it in view on a tablet and
// repeat it in the page's polite aria-live region (#live-region in base.html), which
// exists before the change so that screen readers announce it.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var box = document.querySelector("[data-feedback]");
    if (!box) return;
    box.removeAttribute("data-feedback"); // once: a later poll of the page must not scroll
    var rect = box.getBoundingClientRect();
    // At the bottom of the screen: the form that caused it stays in view above it.
    if (rect.top < 0 || rect.bottom > window.innerHeight) box.scrollIntoView({ block: "end" });
    var live = document.getElementById("live-region");
    if (live) {
      live.textContent = "";
      window.setTimeout(function () { live.textContent = box.textContent; }, 50);
    }
  });
})();

// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", function (evt) {
  var box = document.getElementById("htmx-error");
  if (!box) {
    box = document.createElement("div");
    box.id = "htmx-error";
    box.className = "msg error";
    box.setAttribute("role", "alert");
    document.querySelector("main").prepend(box);
  }
  // A request refused for what it held (core/request_hygiene.py) says why, URL-encoded.
  var refusal = evt.detail.xhr.getResponseHeader("X-Refusal");
  box.textContent = refusal
    ? decodeURIComponent(refusal)
    : (document.documentElement.lang || "").startsWith("zh")
      ? "请求失败(" + evt.detail.xhr.status + "),请重试。"
      : "The request failed (" + evt.detail.xhr.status + "). Please try again.";
});

// A select marked data-submit-on-change (the language switch) submits its form: no inline
// handler, so the Content-Security-Policy needs no 'unsafe-inline' (core/security_headers.py).
document.addEventListener("change", function (evt) {
  var target = evt.target;
  if (target && target.matches && target.matches("select[data-submit-on-change]") && target.form) {
    target.form.submit();
  }
});

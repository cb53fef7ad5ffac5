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
  box.textContent = (document.documentElement.lang || "").startsWith("zh")
    ? "请求失败(" + evt.detail.xhr.status + "),请重试。"
    : "The request failed (" + evt.detail.xhr.status + "). Please try again.";
});

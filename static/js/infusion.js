// Countdowns to server-computed deadlines: <span class="countdown" data-deadline="unix s">.
// The deadline itself is printed as a time by the server; this only adds "in 12:34".
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now() / 1000;
    var nodes = document.querySelectorAll(".countdown[data-deadline]");
    for (var i = 0; i < nodes.length; i++) {
      var left = Math.round(Number(nodes[i].getAttribute("data-deadline")) - now);
      var sign = left < 0 ? "−" : "";
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      nodes[i].textContent = "(" + sign + (h ? h + ":" + pad(m) : m) + ":" + pad(sec) + ")";
      nodes[i].classList.toggle("overdue", left < 0);
    }
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 1000);
})();

// Live countdown for elements with data-seconds-left (progressive enhancement:
// without JavaScript the server-rendered text and the London expiry time stay).
// Counts from the server's figure, so a wrong clock on the device does not matter.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function format(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h + " h " + pad(m) + " min " + pad(sec) + " s";
  }
  var nodes = document.querySelectorAll("[data-seconds-left]");
  Array.prototype.forEach.call(nodes, function (el) {
    var end = Date.now() + parseInt(el.getAttribute("data-seconds-left"), 10) * 1000;
    var timer;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (left <= 0) {
        el.textContent = el.getAttribute("data-expired-text") || "Expired";
        clearInterval(timer);
        return;
      }
      el.textContent = format(left);
    }
    tick();
    timer = setInterval(tick, 1000);
  });
})();

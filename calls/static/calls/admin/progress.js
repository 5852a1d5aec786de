// Refreshes the campaign progress panel while a campaign runs (no inline script: CSP 'self').
(function () {
  "use strict";
  function start() {
    var panel = document.getElementById("campaign-progress-panel");
    if (!panel || !panel.dataset.refreshUrl) { return; }
    var seconds = parseInt(panel.dataset.refreshSeconds || "5", 10);
    setInterval(function () {
      fetch(panel.dataset.refreshUrl, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { panel.innerHTML = html; } })
        .catch(function () { /* keep the last numbers; try again next tick */ });
    }, seconds * 1000);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

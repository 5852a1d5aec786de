// Recipient import progress: polls the job's status until it is done, then reloads once to
// show the rejected rows (static file: the CSP refuses inline scripts).
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("recipient-import");
    if (!box || box.dataset.state === "done" || box.dataset.state === "failed") { return; }
    var timer = setInterval(function () {
      fetch(box.dataset.statusUrl, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          document.getElementById("import-progress").value = s.percent;
          document.getElementById("import-percent").textContent = s.percent + "%";
          document.getElementById("import-processed").textContent = s.processed_rows;
          document.getElementById("import-accepted").textContent = s.accepted_rows;
          document.getElementById("import-added").textContent = s.created_recipients;
          document.getElementById("import-updated").textContent = s.updated_customers;
          if (s.state === "done" || s.state === "failed") { clearInterval(timer); window.location.reload(); }
        })
        .catch(function () { /* try again next tick */ });
    }, 1000);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

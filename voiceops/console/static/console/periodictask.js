// django-celery-beat's periodic task form: show the chosen crontab in words (was an inline script).
(function () {
  "use strict";
  function start() {
    var data = document.getElementById("readable-crontabs");
    var select = document.getElementById("id_crontab");
    var help = document.querySelector(".field-crontab .help");
    if (!data || !select) { return; }
    var readable = JSON.parse(data.textContent);
    var original = help ? help.textContent : "";
    var translation = document.querySelector(".field-crontab_translation");
    if (translation) { translation.hidden = true; }
    select.addEventListener("change", function () {
      if (!help) { return; }
      help.textContent = original;
      help.appendChild(document.createElement("br"));
      help.appendChild(document.createTextNode("Translation: " + (readable[select.value] || "")));
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

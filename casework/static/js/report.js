// Report wizard niceties. The wizard works without this file: the server checks and keeps everything.
(function () {
  "use strict";

  // Preselect the browser's time zone when the victim has not chosen one yet.
  var zone = document.querySelector("select.js-time-zone");
  if (zone && !zone.value && window.Intl && Intl.DateTimeFormat) {
    var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (browserZone && zone.querySelector('option[value="' + browserZone.replace(/"/g, "") + '"]')) {
      zone.value = browserZone;
    }
  }

  // Warn about files over the size limit before a long upload on a phone connection.
  var files = document.querySelector("input.js-files");
  if (files) {
    files.addEventListener("change", function () {
      var tooLarge = Array.prototype.filter.call(files.files, function (file) { return file.size > 10 * 1024 * 1024; });
      var message = files.getAttribute("data-too-large") || "";
      files.setCustomValidity(tooLarge.length ? message + " " + tooLarge.map(function (f) { return f.name; }).join(", ") : "");
      files.reportValidity();
    });
  }

  // "Copy the link" buttons (hidden without JavaScript).
  Array.prototype.forEach.call(document.querySelectorAll("button.js-copy"), function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.classList.add("copied");
      });
    });
  });
}());

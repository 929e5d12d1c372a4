// The E-magazine staff page: a live recipient count while choosing the audience, and a live
// progress bar while an issue is sending.  The page works without it (counts on save).
(function () {
  "use strict";

  var audience = document.getElementById("audience-form");
  if (audience) {
    audience.addEventListener("change", function () {
      var params = new URLSearchParams();
      audience.querySelectorAll("select").forEach(function (select) {
        Array.prototype.forEach.call(select.selectedOptions, function (option) {
          params.append(select.name, option.value);
        });
      });
      fetch(audience.dataset.countUrl + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) { document.getElementById("recipient-count").textContent = data.count; });
    });
  }

  var progress = document.getElementById("progress");
  if (progress && progress.dataset.status !== "sent") {
    var timer = setInterval(function () {
      fetch(progress.dataset.progressUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          ["sent", "failed", "skipped", "total"].forEach(function (key) {
            progress.querySelector('[data-key="' + key + '"]').textContent = data[key];
          });
          progress.querySelector('[data-key="remaining"]').textContent = data.remaining + data.in_flight;
          var total = data.total || 1;
          var sentWidth = (100 * data.sent / total) + "%";
          progress.querySelector(".progress-sent").setAttribute("width", sentWidth);
          progress.querySelector(".progress-failed").setAttribute("x", sentWidth);
          progress.querySelector(".progress-failed").setAttribute("width", (100 * data.failed / total) + "%");
          progress.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", data.sent);
          if (data.status !== progress.dataset.status) {
            clearInterval(timer);
            window.location.reload();
          }
        });
    }, 2000);
  }
})();

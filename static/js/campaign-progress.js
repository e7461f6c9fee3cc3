// The campaign page in the admin: follows the worker, then reloads when the campaign ends.
(function () {
  "use strict";
  var box = document.getElementById("campaign-progress");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (f) {
        document.getElementById("campaign-bar").value = f.progress;
        document.getElementById("campaign-text").textContent =
          f.label + " — " + f.computed + " appels calculés, " + f.rendered + " PDF édités, " +
          f.failed_chunks + " lot(s) en échec";
        if (f.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();

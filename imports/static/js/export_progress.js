// Poll a background export's progress, then reload to offer the file (imports/exports.py).
(function () {
  const box = document.getElementById("export-progress");
  if (!box) return;
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        document.getElementById("export-done").textContent = data.done;
        document.getElementById("export-bar").value = data.percent;
        document.getElementById("export-status").textContent = data.label;
        if (data.running) setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();

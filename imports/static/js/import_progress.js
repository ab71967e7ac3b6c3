// Poll the batch's status while the background job runs, then reload to show the preview.
(function () {
  const box = document.getElementById("progress");
  if (!box) return;
  const rows = document.getElementById("rows-read");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        rows.textContent = data.rows;
        document.getElementById("batch-status").textContent = data.label;
        if (data.running) setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();

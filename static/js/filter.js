// Type-to-filter for long choice lists (cadres, households) without a server round trip.
// <input data-filter-for="ID"> filters the <option>s of select#ID, or the labelled
// checkboxes inside #ID, by the text typed (names, units, villages).
(function () {
  function items(target) {
    if (target.tagName === "SELECT") return Array.from(target.options).filter((o) => o.value !== "");
    return Array.from(target.querySelectorAll("label")).map((label) => label.closest("div, li") || label);
  }
  document.querySelectorAll("[data-filter-for]").forEach(function (input) {
    const target = document.getElementById(input.dataset.filterFor);
    if (!target) return;
    // Enter picks the filtered choice and moves on instead of submitting the form half-filled.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        target.focus();
      }
    });
    input.addEventListener("input", function () {
      const needle = input.value.trim();
      let first = null;
      items(target).forEach(function (item) {
        const show = !needle || item.textContent.includes(needle);
        item.hidden = !show;
        if (show && !first) first = item;
      });
      const chosen = target.tagName === "SELECT" ? target.selectedOptions[0] : null;
      if (first && chosen !== undefined && chosen !== null && (chosen.hidden || chosen.value === "")) {
        target.value = first.value;  // the first match is chosen, so Enter is enough
      }
    });
  });
  // Ctrl+Enter (or ⌘+Enter) in a form marked data-quick-submit presses its primary button:
  // month-end entry runs on the keyboard.
  document.querySelectorAll("form[data-quick-submit]").forEach(function (form) {
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.querySelector("button.primary").click();
      }
    });
  });
})();

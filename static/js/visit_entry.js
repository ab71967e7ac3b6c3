// The visit entry page names whom an empty 走访干部 means before saving: the chosen household's
// responsible cadre on the visit's date, asked of the server whenever either changes.
// <p id="responsible-cadre" data-responsible-url=".../responsible/0/"> receives the answer.
(function () {
  const note = document.getElementById("responsible-cadre");
  const household = document.getElementById("id_household");
  const day = document.getElementById("id_visited_on");
  if (!note || !household) return;
  const hint = note.textContent;
  let asked = 0;
  function show(text, warn) {
    note.textContent = text;
    note.classList.toggle("warn", warn);
    note.classList.toggle("muted", !warn);
  }
  function ask() {
    if (!household.value) {
      show(hint, false);
      return;
    }
    const url = new URL(note.dataset.responsibleUrl.replace(/0\/$/, household.value + "/"), window.location.href);
    if (day && day.value) url.searchParams.set("on", day.value);
    const ticket = ++asked;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then(function (data) {
        if (ticket !== asked || !data) return;  // an older, slower answer must not win
        if (data.cadre) show("帮扶责任人：" + data.cadre + "。走访干部不选，即记为此人的走访。", false);
        else show("该户在该日没有帮扶责任人，请选择走访干部。", true);
      });
  }
  household.addEventListener("change", ask);
  if (day) day.addEventListener("change", ask);
  ask();
})();

// Server-side choosers: <input data-lookup-for="ID" data-lookup-url="URL"> asks URL?q=… as the
// user types and refills select#ID with the answers, the first one chosen, so typing a name
// and pressing Enter is enough. Extra query parameters come from data-lookup-params (JSON).
(function () {
  document.querySelectorAll("[data-lookup-for]").forEach(function (input) {
    const select = document.getElementById(input.dataset.lookupFor);
    if (!select) return;
    let timer = null;
    let asked = 0;
    function fill(results) {
      select.replaceChildren();
      if (!results.length) {
        select.append(new Option("（无匹配）", ""));
        return;
      }
      results.forEach(function (item, index) {
        select.append(new Option(item.text, item.id, index === 0, index === 0));
      });
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function ask() {
      const text = input.value.trim();
      if (!text) return;
      const url = new URL(input.dataset.lookupUrl, window.location.href);
      url.searchParams.set("q", text);
      const ticket = ++asked;
      select.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { results: [] }))
        .then(function (data) {
          if (ticket === asked) fill(data.results);  // an older, slower answer must not win
        })
        .finally(() => select.removeAttribute("aria-busy"));
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        ask();
        select.focus();
      }
    });
  });
})();

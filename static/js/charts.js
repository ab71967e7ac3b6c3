// Draws the report charts with the vendored Apache ECharts (static/vendor/echarts/).
// A chart is <div class="chart" data-chart="ID">, where ID names a json_script element that holds
// {"type": "line"|"bar", "categories": [...], "series": [{"name": ..., "data": [...]}], "unit": "..."}.
// The same figures are always in a table beside the chart, so nothing is lost without the script,
// in a screen reader or on paper; the chart is the quick look.
(function () {
  if (typeof echarts === "undefined") return;
  const charts = [];

  function option(spec, narrow) {
    return {
      animation: false, // no motion: the chart is the same on screen and on paper
      color: ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"],
      tooltip: { trigger: "axis", confine: true },
      legend: { top: 0, type: narrow ? "scroll" : "plain" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: spec.categories,
        axisLabel: { interval: narrow ? "auto" : 0, hideOverlap: true },
      },
      yAxis: { type: "value", name: spec.unit || "", minInterval: spec.integer ? 1 : 0 },
      series: spec.series.map(function (one) {
        return {
          name: one.name,
          type: spec.type || "line",
          data: one.data,
          stack: spec.stacked ? "total" : undefined,
          symbolSize: 6,
        };
      }),
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    // Canvas, not SVG: the SVG renderer writes style attributes, which the CSP refuses.
    const chart = echarts.init(element, null, { renderer: "canvas", devicePixelRatio: 2 });
    chart.setOption(option(spec, element.clientWidth < 480));
    element.dataset.drawn = "1";
    charts.push({ chart: chart, element: element, spec: spec });
  });

  function resize() {
    charts.forEach(function (one) {
      one.chart.setOption(option(one.spec, one.element.clientWidth < 480), { notMerge: true });
      one.chart.resize();
    });
  }
  window.addEventListener("resize", resize);
  // Paper is narrower than the screen: redraw at the printed width, and back afterwards.
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
})();

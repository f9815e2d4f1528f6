/* Leader dashboard charts (ECharts, served locally). */
(function () {
  "use strict";
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  var font = '"Noto Sans CJK SC","Microsoft YaHei",sans-serif';
  var blue = "#1f5fa8";
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) { return; }
    var c = echarts.init(el, null, { renderer: "svg" });
    option.textStyle = { fontFamily: font };
    option.animation = false;
    c.setOption(option);
    charts.push(c);
  }
  function empty(rows) { return !rows.length ? { title: { text: "本月暂无数据", left: "center", top: "middle", textStyle: { color: "#5f6b7a", fontSize: 14 } } } : {}; }

  var daily = data("data-daily");
  chart("chart-daily", Object.assign({
    grid: { left: 44, right: 50, top: 30, bottom: 30 },
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: daily.map(function (d) { return d.day; }) },
    yAxis: [{ type: "value", minInterval: 1, name: "工单" }, { type: "value", minInterval: 1, name: "话务", splitLine: { show: false } }],
    series: [
      { type: "bar", barMaxWidth: 36, name: "工单量", data: daily.map(function (d) { return d.n; }), itemStyle: { color: blue } },
      { type: "line", yAxisIndex: 1, name: "话务量", symbolSize: 4, data: daily.map(function (d) { return d.calls; }), itemStyle: { color: "#e08a00" } }
    ]
  }, empty(daily)));

  var appeal = data("data-appeal");
  chart("chart-appeal", Object.assign({
    tooltip: { trigger: "item", formatter: "{b}：{c}件（{d}%）" },
    legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
      label: { formatter: "{b}\n{c}件" },
      data: appeal.map(function (a) { return { name: a.name, value: a.n }; }) }]
  }, empty(appeal)));

  var cats = data("data-category").slice().reverse();
  chart("chart-category", Object.assign({
    grid: { left: 150, right: 30, top: 10, bottom: 20 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: cats.map(function (c) { return c.name; }) },
    series: [{ type: "bar", barMaxWidth: 36, name: "工单量", data: cats.map(function (c) { return c.n; }), itemStyle: { color: blue },
      label: { show: true, position: "right" } }]
  }, empty(cats)));

  var towns = data("data-township");
  chart("chart-township", Object.assign({
    grid: { left: 40, right: 16, top: 20, bottom: 70 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: towns.map(function (t) { return t.name; }), axisLabel: { rotate: 45, interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", barMaxWidth: 36, name: "工单量", data: towns.map(function (t) { return t.n; }), itemStyle: { color: "#2e7d32" } }]
  }, empty(towns)));

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

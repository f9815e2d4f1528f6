/* A unit's scores over the months (assessment/unit.html): the trend chart (ECharts, served locally). */
(function () {
  "use strict";
  var el = document.getElementById("trend");
  if (!el || typeof echarts === "undefined") { return; }
  var d = JSON.parse(document.getElementById("trend-data").textContent);
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"}, legend: {data: ["考核总分", "排名"]},
    xAxis: {type: "category", data: d.months},
    yAxis: [{type: "value", name: "得分", max: 100}, {type: "value", name: "排名", inverse: true, minInterval: 1}],
    series: [{name: "考核总分", type: "line", data: d.scores.map(function (s) { return s === null ? null : Number(s); })},
             {name: "排名", type: "line", yAxisIndex: 1, data: d.ranks}]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();

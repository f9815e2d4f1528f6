// Polls the import job's state and updates the progress bar, the summary and the row errors.
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
  function text(value) { var span = document.createElement("span"); span.textContent = value; return span.innerHTML; }
  function render(state) {
    field("status_label").textContent = state.status_label;
    field("phase").textContent = state.phase || "";
    var bar = field("bar");
    bar.max = state.total || 1;
    bar.value = state.processed || 0;
    field("count").textContent = (state.processed || 0) + "/" + (state.total || 0);
    if (state.status === "done") {
      field("summary").textContent = "完成：" + Object.keys(state.summary).map(function (k) {
        return k + "=" + state.summary[k];
      }).join(" ");
    }
    if (state.status === "failed" && state.errors.length) {
      var rows = state.errors.map(function (e) {
        return "<tr><td>" + (e.row ? "第" + e.row + "行" : "文件") + "</td><td>" + text(e.column) +
          "</td><td>" + text(e.reason) + "</td></tr>";
      }).join("");
      var total = state.error_count || state.errors.length;
      var shown = total > state.errors.length ? "，以下只列出前 " + state.errors.length + " 处" : "";
      field("errors").innerHTML = '<p class="error">导入失败，未写入任何数据。共 ' + total + " 处错误" + shown +
        '，请改正后重新导入：</p><table class="table"><thead><tr><th>行</th><th>列</th><th>原因</th></tr></thead><tbody>' +
        rows + "</tbody></table>";
    }
    return state.status === "pending" || state.status === "running";
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (state) { if (render(state)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();

/* 成安县帮办代办上门办: the process heatmap (staff/heatmap.html).
   No inline scripts (CSP script-src 'self'): starts from the data-heatmap-url attribute, fetches the
   version's XML and the numbers per element (GET /supervise/heatmap.json), shows the diagram in the
   bpmn-js navigated viewer, colours each element by its heat level (canvas.addMarker, heatmap.css) and
   puts a badge on it: "N 件 · 中位 2.5 小时", and what waits there now. The table below the diagram
   carries the same numbers for those who cannot read colours. */
(function () {
  "use strict";

  function badge(text, className) {
    var node = document.createElement("div");
    node.className = className;
    node.textContent = text;
    return node;
  }

  function label(element) {
    var text = element.cases + " 件";
    if (element.count !== element.cases) { text += "（" + element.count + " 次）"; }
    if (element.median_seconds !== null) { text += " · 中位 " + element.median_text; }
    return text;
  }

  function now(element) {
    var parts = [];
    if (element.active_now.tasks) { parts.push("当前待办 " + element.active_now.tasks); }
    if (element.active_now.timers) { parts.push("计时 " + element.active_now.timers); }
    return parts.join(" · ");
  }

  document.querySelectorAll("[data-heatmap-url]").forEach(function (container) {
    if (typeof window.BpmnJS !== "function") {
      container.textContent = "流程图查看器未能加载，数字见下表。";
      return;
    }
    var viewer = new window.BpmnJS({ container: container });
    container.classList.add("loading");
    fetch(container.getAttribute("data-heatmap-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.message || ("HTTP " + response.status)); }
          return body;
        });
      })
      .then(function (result) {
        return viewer.importXML(result.xml).then(function () { return result; });
      })
      .then(function (result) {
        container.classList.remove("loading");
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        var overlays = viewer.get("overlays");
        result.elements.forEach(function (element) {
          var shape = registry.get(element.id);
          if (!shape) { return; }
          canvas.addMarker(element.id, "hm-" + element.level);
          if (element.count) {
            overlays.add(element.id, "heat", {
              position: { bottom: -4, left: 0 }, html: badge(label(element), "hm-badge")
            });
          }
          var waiting = now(element);
          if (waiting) {
            overlays.add(element.id, "heat-now", { position: { top: -22, right: 0 }, html: badge(waiting, "hm-now") });
          }
        });
        canvas.zoom("fit-viewport", "auto");
        container.setAttribute("data-heatmap-drawn", "1");
      })
      .catch(function (error) {
        container.classList.remove("loading");
        container.textContent = "热力图加载失败：" + (error && error.message ? error.message : "请刷新后再试") + "。数字见下表。";
      });
  });
})();

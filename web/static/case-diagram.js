/* 成安县帮办代办上门办: the supervisors' case view (staff/case_diagram.html).
   No inline scripts (CSP script-src 'self'): starts from the data-case-diagram-url attribute, fetches
   the case's diagram state (GET /cases/<id>/diagram.json), shows its own definition version in the
   bpmn-js navigated viewer, marks the elements (completed, active, waiting timers, path taken) and
   shows who did a step, when and with which data when an element is clicked. */
(function () {
  "use strict";

  var STATE_TITLES = { completed: "已办", active: "待办", waiting: "计时中" };

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function show(value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    if (value === true) { return "是"; }
    if (value === false) { return "否"; }
    if (typeof value === "object") { return JSON.stringify(value); }
    return String(value);
  }

  function facts(pairs) {
    var dl = el("dl");
    pairs.forEach(function (pair) {
      if (pair[1] === undefined) { return; }
      dl.appendChild(el("dt", pair[0]));
      dl.appendChild(el("dd", show(pair[1])));
    });
    return dl;
  }

  function renderPanel(panel, id, name, info) {
    panel.textContent = "";
    panel.appendChild(el("h3", (info && info.title) || name || id));
    if (!info) {
      panel.appendChild(el("p", "这个环节还没有办理记录。", "muted"));
      return;
    }
    if (info.states && info.states.length) {
      panel.appendChild(el("p", "状态：" + info.states.map(function (s) { return STATE_TITLES[s] || s; }).join("、")));
    }
    (info.runs || []).forEach(function (run) {
      var box = el("div", null, "run");
      if (run.action === "timer_fired") {
        box.appendChild(facts([["超时触发", run.at_local], ["原定期限", run.due_at]]));
      } else {
        box.appendChild(facts([["办理人", run.actor_name || run.actor], ["办理时间", run.at_local]]));
        var data = run.data || {};
        var keys = Object.keys(data);
        if (keys.length) {
          box.appendChild(el("p", "提交的数据：", "small"));
          box.appendChild(facts(keys.map(function (k) { return [k, data[k]]; })));
        }
      }
      panel.appendChild(box);
    });
    (info.active || []).forEach(function (task) {
      var box = el("div", null, "run");
      box.appendChild(facts([["待办", task.assignee_name || "未认领"], ["岗位", task.role], ["单位", task.unit],
                             ["到达时间", task.created_local], ["期限", task.due_local]]));
      panel.appendChild(box);
    });
    (info.timers || []).forEach(function (timer) {
      var box = el("div", null, "run");
      box.appendChild(facts([["计时中，到期时间", timer.due_local], ["所属环节", timer.attached_to]]));
      panel.appendChild(box);
    });
    (info.relays || []).forEach(function (hop) {
      var box = el("div", null, "run relay");
      box.appendChild(facts([["互动接力", hop.direction + "：" + hop.from + " → " + hop.to + "（" + hop.status + "）"],
                             ["发起", (hop.by || "") + " " + (hop.at_local || "")], ["原因", hop.reason],
                             ["移交材料", hop.materials], ["说明", hop.note]]));
      panel.appendChild(box);
    });
  }

  function relayBadges(viewer, registry, elements) {
    var overlays = viewer.get("overlays");
    Object.keys(elements || {}).forEach(function (id) {
      var hops = elements[id].relays || [];
      if (!hops.length || !registry.get(id)) { return; }
      var badge = document.createElement("span");
      badge.className = "cd-relay";
      badge.textContent = "接力 " + hops.map(function (h) { return h.to; }).join("、");
      badge.title = hops.map(function (h) { return h.direction + "：" + h.from + " → " + h.to + "（" + h.status + "）"; }).join("\n");
      overlays.add(id, "relay", { position: { bottom: -6, left: 0 }, html: badge });
    });
  }

  document.querySelectorAll("[data-case-diagram-url]").forEach(function (container) {
    var url = container.getAttribute("data-case-diagram-url");
    var panel = document.querySelector("[data-case-diagram-panel]");
    if (typeof window.BpmnJS !== "function") {
      container.textContent = "流程图查看器未能加载。";
      return;
    }
    var viewer = new window.BpmnJS({ container: container });
    var selected = null;
    container.classList.add("loading");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        return viewer.importXML(state.xml).then(function () { return state; });
      })
      .then(function (state) {
        container.classList.remove("loading");
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        function mark(ids, className) {
          (ids || []).forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, className); }
          });
        }
        mark(state.completed, "cd-completed");
        mark(state.active, "cd-active");
        mark(state.waiting_timers, "cd-waiting");
        mark(state.taken_flows, "cd-taken");
        relayBadges(viewer, registry, state.elements);
        canvas.zoom("fit-viewport", "auto");
        viewer.get("eventBus").on("element.click", function (event) {
          var element = event.element;
          if (!element || !element.businessObject || element.type === "bpmn:Process" ||
              element.type === "bpmn:Collaboration" || element.type === "bpmn:Participant" ||
              element.type === "bpmn:Lane" || element.type === "bpmn:SequenceFlow") { return; }
          if (selected) { canvas.removeMarker(selected, "cd-selected"); }
          selected = element.id;
          canvas.addMarker(selected, "cd-selected");
          if (panel) {
            renderPanel(panel, element.id, element.businessObject.name, (state.elements || {})[element.id]);
          }
        });
      })
      .catch(function () {
        container.classList.remove("loading");
        container.textContent = "流程图加载失败，请刷新后再试。";
      });
  });
})();

/* 成安县帮办代办上门办: behaviour for the public pages and the printed papers.
   No inline scripts (CSP script-src 'self'): each feature starts from data- attributes.
   Every page works without this file; it only makes them easier to use. */
(function () {
  "use strict";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  /* Print buttons: the papers print on A4 from the browser (print CSS in app.css). */
  all('[data-action="print"]').forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  /* Online application: list only the matters that offer the chosen service; show the chosen service's
     start form (上门办: the address) and send only it. */
  all("[data-apply-form]").forEach(function (form) {
    var select = form.querySelector("[data-matter-select]");
    function chosenService() {
      var checked = form.querySelector('input[name="service"]:checked');
      return checked ? checked.value : "";
    }
    function refresh() {
      var service = chosenService();
      if (select) {
        all("option[data-services]", select).forEach(function (option) {
          var offered = option.getAttribute("data-services").split(" ");
          var ok = !service || offered.indexOf(service) !== -1;
          option.hidden = !ok;
          option.disabled = !ok;
          if (!ok && option.selected) { select.value = ""; }
        });
      }
      all("[data-start-form]", form).forEach(function (fieldset) {
        var chosen = fieldset.getAttribute("data-start-form") === service;
        fieldset.hidden = !chosen;
        fieldset.disabled = !chosen;
      });
    }
    all('input[name="service"]', form).forEach(function (radio) { radio.addEventListener("change", refresh); });
    refresh();
  });

  /* 五公开: one tab per procedure, each diagram shown in the bpmn-js navigated viewer. */
  all("[data-tabs]").forEach(function (tablist) {
    var tabs = all('[role="tab"]', tablist);
    var viewers = {};
    function show(tab) {
      tabs.forEach(function (other) {
        var panel = document.getElementById(other.getAttribute("aria-controls"));
        var active = other === tab;
        other.classList.toggle("active", active);
        other.setAttribute("aria-selected", active ? "true" : "false");
        if (panel) { panel.hidden = !active; }
      });
      var panel = document.getElementById(tab.getAttribute("aria-controls"));
      if (panel) { loadDiagram(panel); }
    }
    function loadDiagram(panel) {
      var canvas = panel.querySelector(".bpmn-canvas");
      var url = panel.getAttribute("data-bpmn-url");
      if (!canvas || !url || typeof window.BpmnJS !== "function") { return; }
      if (viewers[panel.id]) {
        viewers[panel.id].get("canvas").zoom("fit-viewport", "auto");
        return;
      }
      var viewer = new window.BpmnJS({ container: canvas });
      viewers[panel.id] = viewer;
      canvas.classList.add("loading");
      fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (xml) { return viewer.importXML(xml); })
        .then(function () {
          canvas.classList.remove("loading");
          viewer.get("canvas").zoom("fit-viewport", "auto");
        })
        .catch(function () {
          canvas.classList.remove("loading");
          canvas.textContent = "流程图加载失败，请下载 BPMN 文件查看。";
        });
    }
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function () { show(tab); });
      tab.addEventListener("keydown", function (event) {
        var index = tabs.indexOf(tab);
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          var next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
          next.focus();
          show(next);
          event.preventDefault();
        }
      });
    });
    if (tabs.length) { show(tabs[0]); }
  });

  /* Signature pad: mouse, touch and pen through pointer events; saved as a PNG data URL. */
  all("[data-signature-form]").forEach(function (form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var field = form.querySelector("[data-signature-data]");
    var clear = form.querySelector("[data-signature-clear]");
    var hint = form.querySelector("[data-signature-hint]");
    if (!canvas || !canvas.getContext || !field) { return; }
    var context = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function fit() {
      // Draw at the device's resolution so the printed signature stays sharp.
      var ratio = window.devicePixelRatio || 1;
      var width = canvas.clientWidth || 600;
      var height = canvas.clientHeight || 200;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      drawn = false;
    }
    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return { x: event.clientX - rect.left, y: event.clientY - rect.top };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      context.beginPath();
      context.arc(last.x, last.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fillStyle = context.strokeStyle;
      context.fill();
      drawn = true;
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event);
      context.beginPath();
      context.moveTo(last.x, last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      last = next;
      drawn = true;
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        field.value = "";
        drawn = false;
        if (hint) { hint.textContent = ""; }
      });
    }
    form.addEventListener("submit", function (event) {
      if (!drawn) {
        event.preventDefault();
        if (hint) { hint.textContent = "请先在框内签名。"; }
        return;
      }
      field.value = canvas.toDataURL("image/png");
    });
    fit();
  });

  /* Counter tablet: one tap rates; a second tap while the page submits does nothing. */
  all("[data-kiosk-form]").forEach(function (form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      sent = true;
      form.classList.add("sent");
    });
  });

  /* Counter tablet: the thank-you screen returns to the waiting screen after a few seconds. */
  all("[data-return-url]").forEach(function (panel) {
    var url = panel.getAttribute("data-return-url");
    var seconds = parseInt(panel.getAttribute("data-return-seconds") || "5", 10);
    var counter = panel.querySelector("[data-countdown]");
    var timer = window.setInterval(function () {
      seconds -= 1;
      if (counter) { counter.textContent = String(Math.max(seconds, 0)); }
      if (seconds <= 0) {
        window.clearInterval(timer);
        window.location.assign(url);
      }
    }, 1000);
  });
})();

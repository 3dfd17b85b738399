/* 成安县帮办代办上门办 · staff pages. Small on purpose: every page works without it.
   - countdowns ("剩余 1小时20分" / "已超时 35分") kept current every 30 s from data-due
   - "添加一行" for repeatable lists and groups
   - the material check list of the one-time notice: live list of what is missing, and filling the form
   - the signature pad (mouse, pen or finger), sent as a PNG data URL
   - the intake form: only the fields and matters that fit the chosen service
   - print buttons */
(function () {
  "use strict";

  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  /* --- countdowns ------------------------------------------------------------------------------ */
  function countdown(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    var text = days ? days + "天" + hours + "小时" : hours ? hours + "小时" + mins + "分" : mins + "分";
    return (ms >= 0 ? "剩余 " : "已超时 ") + text;
  }

  // The server's clock is the one that counts: correct for a PC whose clock is off.
  var skew = 0;
  var stamp = document.querySelector("[data-now]");
  if (stamp) {
    var serverNow = Date.parse(stamp.getAttribute("data-now"));
    if (!isNaN(serverNow)) { skew = serverNow - Date.now(); }
  }

  function tick() {
    var now = Date.now() + skew;
    each(document.querySelectorAll("[data-due]"), function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = due - now;
      el.textContent = countdown(left);
      el.classList.toggle("is-overdue", left < 0);
      var row = el.closest("tr");
      if (row && left < 0) { row.classList.add("overdue"); }
    });
  }
  if (document.querySelector("[data-due]")) {
    tick();
    window.setInterval(tick, 30000);
  }

  /* --- repeatable rows ------------------------------------------------------------------------------ */
  function renumber(rows) {
    each(rows.children, function (row, i) {
      var cell = row.querySelector("[data-row-number]");
      if (cell) { cell.textContent = String(i + 1); }
    });
  }

  function addRow(box) {
    var template = box.querySelector("template[data-row-template]");
    var rows = box.querySelector("[data-rows]");
    var button = box.querySelector("[data-add-row]");
    var max = parseInt((button && button.getAttribute("data-max")) || "0", 10);
    if (!template || !rows || (max && rows.children.length >= max)) { return null; }
    var index = parseInt(box.getAttribute("data-next") || String(rows.children.length), 10);
    box.setAttribute("data-next", String(index + 1));
    var fragment = template.content.cloneNode(true);
    each(fragment.querySelectorAll("[name], [id]"), function (el) {
      ["name", "id"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.split("__i__").join(String(index))); }
      });
    });
    var row = fragment.firstElementChild;
    rows.appendChild(fragment);
    renumber(rows);
    if (button && max && rows.children.length >= max) { button.disabled = true; }
    return row;
  }

  each(document.querySelectorAll("[data-repeat]"), function (box) {
    var button = box.querySelector("[data-add-row]");
    var rows = box.querySelector("[data-rows]");
    if (!button || !rows) { return; }
    box.setAttribute("data-next", String(rows.children.length));
    button.hidden = false;
    button.addEventListener("click", function () {
      var row = addRow(box);
      var input = row && row.querySelector("input, textarea, select");
      if (input) { input.focus(); }
    });
  });

  /* --- the one-time notice as a check list (R-5.4, R-9.1.3.3) -------------------------------------- */
  var checklist = document.querySelector("[data-checklist]");
  if (checklist) {
    var boxes = checklist.querySelectorAll("input[name=have]");
    var missing = function () {
      return Array.prototype.filter.call(boxes, function (b) { return !b.checked; }).map(function (b) {
        return { name: b.getAttribute("data-name") || "", how: b.getAttribute("data-how") || "" };
      });
    };
    var showMissing = function () {
      var items = missing();
      var list = checklist.querySelector("[data-missing-list]");
      var count = checklist.querySelector("[data-missing-count]");
      var none = checklist.querySelector("[data-missing-none]");
      if (list) {
        list.textContent = "";
        items.forEach(function (m) {
          var li = document.createElement("li");
          var strong = document.createElement("strong");
          strong.textContent = m.name;
          li.appendChild(strong);
          li.appendChild(document.createTextNode("：" + m.how));
          list.appendChild(li);
        });
      }
      if (count) { count.textContent = String(items.length); }
      if (none) { none.hidden = items.length > 0; }
    };
    each(boxes, function (b) { b.addEventListener("change", showMissing); });
  }

  /* --- signature pad (R-9.2.1, R-9.2.3) -------------------------------------------------------------- */
  var signForm = document.querySelector("[data-signature-form]");
  var canvas = signForm && signForm.querySelector("[data-sign-canvas]");
  if (canvas && canvas.getContext) {
    var pad = signForm.querySelector("[data-sign-pad]");
    var field = signForm.querySelector("[data-sign-data]");
    var message = signForm.querySelector("[data-sign-message]");
    var ctx = canvas.getContext("2d");
    var drawing = false, drawn = false;
    var blank = function () {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      drawn = false;
    };
    var point = function (e) {
      var r = canvas.getBoundingClientRect();
      var src = e.touches ? e.touches[0] : e;
      return { x: (src.clientX - r.left) * canvas.width / r.width, y: (src.clientY - r.top) * canvas.height / r.height };
    };
    var start = function (e) {
      drawing = true;
      var p = point(e);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      e.preventDefault();
    };
    var move = function (e) {
      if (!drawing) { return; }
      var p = point(e);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      drawn = true;
      e.preventDefault();
    };
    var stop = function () { drawing = false; };
    blank();
    pad.hidden = false;
    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", function (e) { canvas.setPointerCapture(e.pointerId); start(e); });
      canvas.addEventListener("pointermove", move);
      ["pointerup", "pointercancel"].forEach(function (t) { canvas.addEventListener(t, stop); });
    } else {
      canvas.addEventListener("mousedown", start);
      canvas.addEventListener("mousemove", move);
      window.addEventListener("mouseup", stop);
      canvas.addEventListener("touchstart", start);
      canvas.addEventListener("touchmove", move);
      canvas.addEventListener("touchend", stop);
    }
    signForm.querySelector("[data-sign-clear]").addEventListener("click", blank);
    signForm.addEventListener("submit", function (e) {
      var file = signForm.querySelector("input[type=file]");
      if (drawn) {
        field.value = canvas.toDataURL("image/png");
      } else if (!file || !file.files.length) {
        e.preventDefault();
        message.textContent = "请先请服务对象在框内手写签名，或选择签名扫描件。";
        message.hidden = false;
      }
    });
  }

  /* --- intake: the fields and matters that fit the chosen service ------------------------------------- */
  var intake = document.querySelector("[data-intake]");
  if (intake) {
    var matterSelect = intake.querySelector("[data-matter-select]");
    var update = function () {
      var checked = intake.querySelector("input[name=process]:checked");
      var process = checked ? checked.value : "";
      var service = ["assist", "proxy", "onsite"].indexOf(process) >= 0;
      each(intake.querySelectorAll("[data-show-for]"), function (el) {
        el.hidden = el.getAttribute("data-show-for").split(" ").indexOf(process) < 0;
      });
      if (matterSelect) {
        each(matterSelect.querySelectorAll("option[data-services]"), function (o) {
          var offered = !service || o.getAttribute("data-services").split(" ").indexOf(process) >= 0;
          o.hidden = !offered;
          o.disabled = !offered;
          if (!offered && o.selected) { matterSelect.value = ""; }
        });
        matterSelect.required = service;
      }
      /* Only the chosen procedure's start form is sent (two forms may name a field alike). */
      each(intake.querySelectorAll("[data-start-form]"), function (fieldset) {
        fieldset.disabled = fieldset.getAttribute("data-start-form") !== process;
      });
    };
    each(intake.querySelectorAll("input[name=process]"), function (r) { r.addEventListener("change", update); });
    update();
  }

  /* --- print ------------------------------------------------------------------------------------------ */
  each(document.querySelectorAll("[data-print]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();

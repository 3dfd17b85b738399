/* 成安县帮办代办上门办 · the forms editor (administrators). The page works without it (save, server-rendered
   preview); with it:
   - line numbers beside each code area, Tab indents (Esc then Tab leaves the area), 格式化 pretty-prints
   - the preview re-renders ~400 ms after typing stops, by the server with the task page's own renderer
   - 试填校验 sends what was filled into the preview and shows each field's error as the task page does
   - a problem with a line number jumps to that line when clicked */
(function () {
  "use strict";

  var editor = document.querySelector("[data-forms-editor]");
  if (!editor) { return; }
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var previewUrl = editor.getAttribute("data-preview-url");
  var csrf = editor.querySelector("input[name=csrf_token]").value;
  var areas = {};
  each(editor.querySelectorAll("textarea[data-code]"), function (t) { areas[t.getAttribute("data-code")] = t; });
  var previewBox = document.querySelector("[data-preview]");
  var previewForm = document.querySelector("[data-preview-form]");
  var errorsBox = document.querySelector("[data-preview-errors]");
  var stateText = document.querySelector("[data-preview-state]");
  var previewTitle = document.querySelector("[data-preview-title]");
  var INDENT = "  ";

  /* --- code areas --------------------------------------------------------------------------------- */
  function lines(part) {
    var gutter = editor.querySelector("[data-lines='" + part + "']");
    var area = areas[part];
    if (!gutter || !area) { return; }
    var count = area.value.split("\n").length;
    if (gutter.getAttribute("data-count") !== String(count)) {
      var numbers = [];
      for (var i = 1; i <= count; i++) { numbers.push(i); }
      gutter.textContent = numbers.join("\n");
      gutter.setAttribute("data-count", String(count));
    }
    gutter.scrollTop = area.scrollTop;
  }

  function replaceSelection(area, start, end, text, caret) {
    area.setRangeText(text, start, end, "end");
    if (caret !== undefined) { area.setSelectionRange(caret, caret); }
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function onKey(event) {
    var area = event.target;
    if (event.key === "Escape") { area.setAttribute("data-leave", "1"); return; }
    if (event.key !== "Tab" || area.getAttribute("data-leave") === "1") { area.removeAttribute("data-leave"); return; }
    event.preventDefault();
    var value = area.value, start = area.selectionStart, end = area.selectionEnd;
    var lineStart = value.lastIndexOf("\n", start - 1) + 1;
    if (event.shiftKey || start !== end) {
      // Indent or outdent every line of the selection.
      var block = value.slice(lineStart, end);
      var changed = block.split("\n").map(function (line) {
        if (!event.shiftKey) { return INDENT + line; }
        return line.indexOf(INDENT) === 0 ? line.slice(INDENT.length) : line.replace(/^ /, "");
      }).join("\n");
      area.setRangeText(changed, lineStart, end, "select");
      area.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    replaceSelection(area, start, end, INDENT);
  }

  Object.keys(areas).forEach(function (part) {
    var area = areas[part];
    lines(part);
    area.addEventListener("input", function () { lines(part); schedule(); });
    area.addEventListener("scroll", function () { lines(part); });
    area.addEventListener("keydown", onKey);
  });

  each(editor.querySelectorAll("[data-format]"), function (button) {
    button.addEventListener("click", function () {
      var part = button.getAttribute("data-format");
      var area = areas[part];
      try {
        var text = area.value.trim() ? JSON.stringify(JSON.parse(area.value), null, 2) : "{}";
        area.value = text;
        area.dispatchEvent(new Event("input", { bubbles: true }));
      } catch (e) {
        say("JSON 格式有误，无法格式化：" + e.message);
        refresh();
      }
    });
  });

  var titleInput = editor.querySelector("[data-title]");
  if (titleInput && previewTitle) {
    titleInput.addEventListener("input", function () { previewTitle.textContent = titleInput.value; });
  }

  /* --- jump to a problem's line ------------------------------------------------------------------- */
  function gotoLine(part, line, column) {
    var area = areas[part];
    if (!area) { return; }
    var rows = area.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < rows.length; i++) { offset += rows[i].length + 1; }
    var at = offset + Math.max(0, (column || 1) - 1);
    area.focus();
    area.setSelectionRange(at, offset + (rows[line - 1] || "").length);
    var height = area.scrollHeight / Math.max(rows.length, 1);
    area.scrollTop = Math.max(0, (line - 5) * height);
    lines(part);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-goto]");
    if (!button) { return; }
    var item = button.closest("[data-line]");
    gotoLine(item.getAttribute("data-part"), parseInt(item.getAttribute("data-line"), 10),
             parseInt(item.getAttribute("data-column") || "1", 10));
  });

  /* --- the live preview ----------------------------------------------------------------------------- */
  var timer = null, sequence = 0;

  function say(text) { if (stateText) { stateText.textContent = text; } }

  function schedule() {
    window.clearTimeout(timer);
    say("正在更新…");
    timer = window.setTimeout(refresh, 400);
  }

  function filledValues() {
    var pairs = [];
    if (!previewForm) { return pairs; }
    new FormData(previewForm).forEach(function (value, name) {
      if (typeof value === "string") { pairs.push([name, value]); }
    });
    return pairs;
  }

  function problemsHtml(problems, heading) {
    var box = document.createElement("div");
    box.className = "flash flash-error fe-problems";
    box.setAttribute("role", "alert");
    var head = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = heading;
    head.appendChild(strong);
    box.appendChild(head);
    var list = document.createElement("ul");
    problems.forEach(function (p) {
      var item = document.createElement("li");
      if (p.line) {
        item.setAttribute("data-part", p.part);
        item.setAttribute("data-line", String(p.line));
        item.setAttribute("data-column", String(p.column || 1));
        var link = document.createElement("button");
        link.type = "button";
        link.className = "link";
        link.setAttribute("data-goto", "");
        link.textContent = p.text;
        item.appendChild(link);
      } else {
        item.textContent = p.text || p.message;
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function repeatable(root) {
    // "添加一行" for repeatable lists and groups, as staff.js does on the task page.
    each(root.querySelectorAll("[data-repeat]"), function (box) {
      var button = box.querySelector("[data-add-row]");
      var rows = box.querySelector("[data-rows]");
      var template = box.querySelector("template[data-row-template]");
      if (!button || !rows || !template) { return; }
      var next = rows.children.length;
      button.hidden = false;
      button.addEventListener("click", function () {
        var max = parseInt(button.getAttribute("data-max") || "0", 10);
        if (max && rows.children.length >= max) { return; }
        var fragment = template.content.cloneNode(true);
        each(fragment.querySelectorAll("[name], [id]"), function (el) {
          ["name", "id"].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) { el.setAttribute(attr, value.split("__i__").join(String(next))); }
          });
        });
        next += 1;
        rows.appendChild(fragment);
        each(rows.children, function (row, i) {
          var cell = row.querySelector("[data-row-number]");
          if (cell) { cell.textContent = String(i + 1); }
        });
      });
    });
  }

  function refresh(check) {
    window.clearTimeout(timer);
    var mine = ++sequence;
    var body = { schema: areas.schema ? areas.schema.value : "", ui: areas.ui ? areas.ui.value : "",
                 values: filledValues(), check: check === true };
    say(check === true ? "正在校验…" : "正在更新…");
    fetch(previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        throw new Error(response.status === 400 ? "页面已过期，请刷新页面后再试。" :
                        response.status === 403 ? "您无权预览表单。" : "预览失败（" + response.status + "）。");
      }
      return response.json();
    }).then(function (result) {
      if (mine !== sequence) { return; }  // a newer keystroke already asked again
      errorsBox.textContent = "";
      if (result.errors) {
        errorsBox.appendChild(problemsHtml(result.errors, "草稿有误，无法预览（预览保留上一次的样子）："));
        say("草稿有误");
        return;
      }
      previewBox.innerHTML = result.html;  // server-rendered by our own templates (Jinja autoescaped)
      repeatable(previewBox);
      say(result.checked ? (result.valid ? "校验通过" : "校验未通过") : "已更新");
    }).catch(function (error) {
      if (mine !== sequence) { return; }
      say(error.message || "预览失败，请检查网络。");
    });
  }

  var checkButton = document.querySelector("[data-check]");
  if (checkButton) { checkButton.addEventListener("click", function () { refresh(true); }); }
  if (previewForm) {
    previewForm.addEventListener("submit", function (event) { event.preventDefault(); refresh(true); });
  }
  if (previewBox) { repeatable(previewBox); }
  editor.setAttribute("data-ready", "1");  // for tests: the editor is wired up
})();

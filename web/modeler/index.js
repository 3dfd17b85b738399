/* 成安县帮办代办上门办: the process administrators' BPMN modeler (web/templates/admin/modeler.html).
   bpmn-js Modeler + properties panel for our spiffworkflow extensions, bpmnlint's recommended rules in the
   browser, and the server's validation / draft / deploy endpoints (bdd_workflow/views/modeler.py).
   Built by esbuild into web/static/dist/ (npm run build); no inline script (CSP script-src 'self'). */

import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import { Linter } from 'bpmnlint';

import spiffworkflowDescriptor from './spiffworkflow.json';
import BddPropertiesProvider from './properties-provider';
import translate from './translate';
import { lintConfig, lintResolver } from './lint-config';
import { lintMessage } from './lint-messages';
import { newDiagram } from './new-diagram';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/assets/properties-panel.css';
import './modeler.css';

const SEVERITY_TITLES = { error: '错误', warning: '警告' };
const SOURCE_TITLES = { spiffworkflow: '引擎解析', check: '规范检查', bpmnlint: 'BPMN 规则', deploy: '部署', import: '导入' };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  if (className) { node.className = className; }
  return node;
}

function csrfToken(root) {
  return root.dataset.csrfToken || '';
}

async function requestJson(root, method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRFToken': csrfToken(root) },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return { status: response.status, ok: response.ok, data: data || {} };
}

class ModelerPage {
  constructor(root) {
    this.root = root;
    this.data = root.dataset;
    this.dirty = false;
    this.problems = [];
    this.overlayIds = [];
    this.markers = [];
    this.status = root.querySelector('[data-role=status]');
    this.list = root.querySelector('[data-role=problems]');
    this.summary = root.querySelector('[data-role=problems-summary]');
  }

  async start() {
    const options = await this.loadOptions();
    this.modeler = new BpmnModeler({
      container: this.root.querySelector('[data-role=canvas]'),
      propertiesPanel: {
        parent: this.root.querySelector('[data-role=properties]'),
        layout: { groups: {
          general: { open: true }, 'bdd-requirement': { open: true }, 'bdd-user-task': { open: true },
          'bdd-timer': { open: true }, 'bdd-condition': { open: true }, 'bdd-service-task': { open: true },
          'bdd-decision': { open: true }, 'bdd-script': { open: true }, 'bdd-start-event': { open: true }
        } }
      },
      additionalModules: [
        BpmnPropertiesPanelModule,
        BpmnPropertiesProviderModule,
        { __init__: ['bddPropertiesProvider'], bddPropertiesProvider: ['type', BddPropertiesProvider],
          bddOptions: ['value', options], translate: ['value', translate] }
      ],
      moddleExtensions: { spiffworkflow: spiffworkflowDescriptor }
    });
    window.bddModeler = this.modeler; // for the end-to-end test and the browser console
    this.modeler.on('commandStack.changed', () => this.setDirty(true));
    this.bindToolbar();
    window.addEventListener('beforeunload', (event) => {
      if (this.dirty) { event.preventDefault(); event.returnValue = ''; }
    });
    const url = this.data.xmlUrl;
    if (url) {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) {
        this.say('无法读取流程图（HTTP ' + response.status + '）。', 'error');
        return;
      }
      await this.open(await response.text(), this.data.sourceLabel || '');
    } else {
      await this.open(newDiagram(), '新建流程：请在属性面板中填写流程编号和名称');
    }
    this.root.classList.add('modeler-ready');
  }

  async loadOptions() {
    const empty = { forms: [], roles: [], requirements: [], units: [] };
    if (!this.data.optionsUrl) { return empty; }
    const result = await requestJson(this.root, 'GET', this.data.optionsUrl);
    if (!result.ok) {
      this.say('无法读取表单、角色和需求编号列表：' + (result.data.message || result.status), 'error');
      return empty;
    }
    return Object.assign(empty, result.data);
  }

  /** Import ``xml``; warnings (e.g. an encoding the browser already handled) are listed, not fatal. */
  async open(xml, label) {
    this.clearProblems();
    this.root.dataset.imported = 'pending';
    try {
      const { warnings } = await this.modeler.importXML(xml);
      this.fit();
      this.setDirty(false);
      this.root.dataset.importWarnings = String(warnings.length);
      if (warnings.length) {
        this.say((label ? label + '：' : '') + '已打开，导入时有 ' + warnings.length + ' 条提示（见下方列表）。', 'warning');
        this.showProblems(warnings.map((w) => ({
          element: w.element && w.element.id || null, message: '导入提示：' + w.message, source: 'import', severity: 'warning'
        })), '导入提示');
      } else {
        this.say(label ? '已打开：' + label : '已打开。', 'info');
      }
      this.root.dataset.imported = 'ok';
      return true;
    } catch (error) {
      this.root.dataset.imported = 'error';
      this.say('无法打开这个文件：' + error.message, 'error');
      return false;
    }
  }

  bindToolbar() {
    const on = (action, handler) => {
      const button = this.root.querySelector('[data-action=' + action + ']');
      if (button) { button.addEventListener('click', (event) => { event.preventDefault(); handler.call(this, button); }); }
    };
    on('open-version', this.toggleVersions);
    on('new', this.newDiagram);
    on('import', () => this.root.querySelector('[data-role=file]').click());
    on('download', this.download);
    on('save-draft', this.saveDraft);
    on('validate', this.validate);
    on('deploy', this.deploy);
    on('fit', () => this.fit());
    const file = this.root.querySelector('[data-role=file]');
    file.addEventListener('change', () => this.importFile(file));
    const menu = this.root.querySelector('[data-role=versions]');
    document.addEventListener('click', (event) => {
      if (!menu.hidden && !menu.contains(event.target) && !event.target.closest('[data-action=open-version]')) { menu.hidden = true; }
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { menu.hidden = true; }
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') { // Ctrl+S: 保存草稿
        event.preventDefault();
        this.saveDraft();
      }
    });
  }

  /** The whole diagram in view, clear of the palette on the left; never enlarged beyond 100 %. */
  fit() {
    const canvas = this.modeler.get('canvas');
    const { inner, outer } = canvas.viewbox();
    if (!inner || !inner.width || !inner.height) { canvas.zoom('fit-viewport', 'auto'); return; }
    const left = 110, pad = 24;
    const scale = Math.min((outer.width - left - pad) / inner.width, (outer.height - 2 * pad) / inner.height, 1);
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - Math.max(pad, (outer.height - inner.height * scale) / 2) / scale,
      width: outer.width / scale,
      height: outer.height / scale
    });
  }

  setDirty(dirty) {
    this.dirty = dirty;
    this.root.classList.toggle('modeler-dirty', dirty);
    const marker = this.root.querySelector('[data-role=dirty]');
    if (marker) { marker.hidden = !dirty; }
  }

  say(message, kind) {
    this.status.textContent = message;
    this.status.className = 'modeler-status modeler-status-' + (kind || 'info');
  }

  confirmDiscard() {
    return !this.dirty || window.confirm('有未保存的修改，确定放弃吗？');
  }

  /* ---------- toolbar actions ---------- */

  async toggleVersions(button) {
    const menu = this.root.querySelector('[data-role=versions]');
    if (!menu.hidden) { menu.hidden = true; return; }
    menu.textContent = '';
    menu.hidden = false;
    menu.appendChild(el('p', '读取版本列表…', 'muted'));
    const result = await requestJson(this.root, 'GET', this.data.versionsUrl + '?format=json');
    menu.textContent = '';
    if (!result.ok) {
      menu.appendChild(el('p', '无法读取版本列表：' + (result.data.message || result.status), 'problem-error'));
      return;
    }
    const base = this.data.modelerUrlTemplate;
    (result.data.processes || []).forEach((process) => {
      const group = el('div', null, 'versions-process');
      group.appendChild(el('strong', (process.name || process.process) + '（' + process.process + '）'));
      const links = el('span', null, 'versions-links');
      const link = (text, version) => {
        const a = el('a', text);
        a.href = base.replace('__process_id__', encodeURIComponent(process.process)) + '?version=' + version;
        a.dataset.process = process.process;
        a.dataset.version = version;
        links.appendChild(a);
      };
      if (process.draft) { link('草稿', 'draft'); }
      (process.versions || []).forEach((v) => link('第 ' + v.version + ' 版', String(v.version)));
      group.appendChild(links);
      menu.appendChild(group);
    });
    if (!menu.children.length) { menu.appendChild(el('p', '还没有部署任何流程。', 'muted')); }
  }

  async newDiagram() {
    if (this.data.processId) {
      window.location.href = this.data.newUrl; // the new-diagram page; leaving asks about unsaved changes
      return;
    }
    if (!this.confirmDiscard()) { return; }
    await this.open(newDiagram(), '新建流程：请在属性面板中填写流程编号和名称');
  }

  importFile(input) {
    const file = input.files && input.files[0];
    if (!file) { return; }
    if (!this.confirmDiscard()) { input.value = ''; return; }
    const reader = new FileReader();
    reader.onload = async () => {
      const ok = await this.open(String(reader.result), '文件 ' + file.name);
      if (ok) { this.setDirty(true); }
      input.value = '';
    };
    reader.onerror = () => this.say('无法读取文件 ' + file.name, 'error');
    readAsXmlText(reader, file);
  }

  async xml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  /** The id of the diagram's (first executable) process: drafts and file names are named after it. */
  processId() {
    const definitions = this.modeler.getDefinitions();
    const processes = (definitions.rootElements || []).filter((e) => e.$type === 'bpmn:Process');
    const executable = processes.find((p) => p.isExecutable) || processes[0];
    return executable ? executable.id : null;
  }

  async download() {
    const xml = await this.xml();
    const blob = new Blob([xml], { type: 'application/xml' });
    const a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = (this.processId() || 'diagram') + '.bpmn';
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  async saveDraft() {
    const processId = this.processId();
    if (!processId) { this.say('图中没有流程，无法保存草稿。', 'error'); return; }
    const url = this.data.draftUrlTemplate.replace('__process_id__', encodeURIComponent(processId));
    const body = { xml: await this.xml() };
    const base = parseInt(this.data.baseVersion || '', 10);
    if (!Number.isNaN(base)) { body.base_version = base; }
    this.say('正在保存草稿…', 'info');
    const result = await requestJson(this.root, 'PUT', url, body);
    if (result.ok) {
      this.setDirty(false);
      this.say('草稿已保存（' + (result.data.saved_by || '') + '，' + formatTime(result.data.saved_at) + '），尚未部署。', 'success');
    } else {
      this.say('草稿未保存：' + (result.data.message || ('HTTP ' + result.status)), 'error');
    }
  }

  async lint() {
    const linter = new Linter({ config: lintConfig, resolver: lintResolver });
    const results = await linter.lint(this.modeler.getDefinitions());
    const problems = [];
    Object.keys(results).forEach((rule) => {
      results[rule].forEach((report) => {
        problems.push({
          element: report.id || null,
          message: lintMessage(rule, report.message),
          source: 'bpmnlint',
          severity: report.category === 'error' ? 'error' : 'warning'
        });
      });
    });
    return problems;
  }

  async validate() {
    this.say('正在校验…', 'info');
    const xml = await this.xml();
    const [server, lint] = await Promise.all([
      requestJson(this.root, 'POST', this.data.validateUrl, { xml, filename: (this.processId() || 'diagram') + '.bpmn' }),
      this.lint().catch((error) => [{ element: null, message: 'BPMN 规则检查失败：' + error.message, source: 'bpmnlint', severity: 'warning' }])
    ]);
    let problems = lint;
    if (server.ok) {
      problems = (server.data.problems || []).concat(lint);
    } else {
      problems = [{ element: null, message: '服务器校验失败：' + (server.data.message || ('HTTP ' + server.status)), source: 'check', severity: 'error' }].concat(lint);
    }
    this.showProblems(problems, '校验');
    const errors = problems.filter((p) => p.severity === 'error').length;
    const warnings = problems.length - errors;
    this.root.dataset.validated = errors ? 'errors' : 'clean';
    if (errors) {
      this.say('校验发现 ' + errors + ' 个错误' + (warnings ? '、' + warnings + ' 个警告' : '') + '：改正后才能部署。', 'error');
    } else {
      this.say('校验通过' + (warnings ? '（' + warnings + ' 个警告，可以部署）' : '，没有发现问题') + '。', 'success');
    }
    return !errors;
  }

  async deploy() {
    const processId = this.processId();
    if (!window.confirm('部署为新版本？新办件将按新版本办理，已在办的办件仍按原版本办理。')) { return; }
    this.say('正在部署…', 'info');
    const xml = await this.xml();
    const result = await requestJson(this.root, 'POST', this.data.deployUrl, { xml, filename: (processId || 'diagram') + '.bpmn' });
    if (result.status === 201) {
      this.clearProblems();
      this.setDirty(false);
      const deployed = (result.data.processes || []).map((p) => p.process + ' 第 ' + p.version + ' 版' + (p.unchanged ? '（与现有版本相同，未新建版本）' : ''));
      const text = deployed.length ? '已部署：' + deployed.join('，') + '。新办件按新版本办理，在办的办件仍按原版本。' : '已部署。';
      this.say(text, 'success');
      this.root.dataset.deployed = JSON.stringify(result.data.processes || []);
      const mine = (result.data.processes || []).find((p) => p.process === processId);
      if (mine) { this.data.baseVersion = String(mine.version); }
      if (result.data.warnings && result.data.warnings.length) {
        this.showProblems(result.data.warnings.map((w) => (typeof w === 'string'
          ? { element: null, message: w, source: 'deploy', severity: 'warning' } : w)), '部署提示');
      }
      return;
    }
    const problems = result.data.problems && result.data.problems.length ? result.data.problems
      : [{ element: result.data.element || null, message: result.data.message || ('HTTP ' + result.status), source: 'deploy', severity: 'error' }];
    this.showProblems(problems, '部署');
    this.say('未部署：' + (result.data.message || ('服务器拒绝（HTTP ' + result.status + '）')), 'error');
  }

  /* ---------- problems: a list and markers on the diagram ---------- */

  clearProblems() {
    const overlays = this.modeler && this.modeler.get('overlays');
    const canvas = this.modeler && this.modeler.get('canvas');
    this.overlayIds.forEach((id) => overlays.remove(id));
    this.markers.forEach(([id, marker]) => canvas.removeMarker(id, marker));
    this.overlayIds = [];
    this.markers = [];
    this.problems = [];
    this.list.textContent = '';
    this.summary.textContent = '';
    this.list.closest('[data-role=problems-box]').hidden = true;
  }

  /** The shape or connection a problem names: the element itself, or the pool of a named process. */
  shapeFor(id) {
    if (!id) { return null; }
    const registry = this.modeler.get('elementRegistry');
    const direct = registry.get(id);
    if (direct) { return direct; }
    return registry.find((e) => e.type === 'bpmn:Participant' && e.businessObject.processRef && e.businessObject.processRef.id === id) || null;
  }

  showProblems(problems, title) {
    this.clearProblems();
    this.problems = problems;
    const box = this.list.closest('[data-role=problems-box]');
    box.hidden = !problems.length;
    const errors = problems.filter((p) => p.severity === 'error').length;
    this.summary.textContent = title + '：' + errors + ' 个错误，' + (problems.length - errors) + ' 个警告';
    const overlays = this.modeler.get('overlays');
    const canvas = this.modeler.get('canvas');
    const byShape = new Map();
    const order = { error: 0, warning: 1 };
    problems.slice().sort((a, b) => (order[a.severity] || 0) - (order[b.severity] || 0)).forEach((problem) => {
      const shape = this.shapeFor(problem.element);
      const item = el('li', null, 'problem problem-' + problem.severity);
      item.dataset.element = problem.element || '';
      item.dataset.severity = problem.severity;
      item.appendChild(el('span', SEVERITY_TITLES[problem.severity] || problem.severity, 'problem-severity'));
      const name = shape && shape.businessObject && shape.businessObject.name;
      if (problem.element) {
        item.appendChild(el('code', problem.element + (name ? '「' + name + '」' : ''), 'problem-element'));
      }
      item.appendChild(el('span', shortMessage(problem), 'problem-message'));
      item.appendChild(el('span', SOURCE_TITLES[problem.source] || problem.source || '', 'problem-source'));
      if (shape) {
        item.tabIndex = 0;
        item.title = '点击在图中定位';
        const focus = () => this.focusElement(shape);
        item.addEventListener('click', focus);
        item.addEventListener('keydown', (event) => { if (event.key === 'Enter') { focus(); } });
        if (!byShape.has(shape.id)) { byShape.set(shape.id, []); }
        byShape.get(shape.id).push(problem);
      }
      this.list.appendChild(item);
    });
    byShape.forEach((list, id) => {
      const severity = list.some((p) => p.severity === 'error') ? 'error' : 'warning';
      const marker = 'bdd-marker-' + severity;
      canvas.addMarker(id, marker);
      this.markers.push([id, marker]);
      const html = el('div', null, 'bdd-problem-overlay bdd-problem-' + severity);
      html.dataset.element = id;
      html.title = list.map(shortMessage).join('\n');
      html.appendChild(el('span', String(list.length), 'bdd-problem-count'));
      html.appendChild(el('span', shortMessage(list[0]), 'bdd-problem-text'));
      const shape = this.shapeFor(id);
      const position = shape.waypoints ? { top: -10, left: -10 } : { top: -22, left: 0 };
      this.overlayIds.push(overlays.add(id, 'bdd-problems', { position, html }));
    });
  }

  focusElement(shape) {
    const canvas = this.modeler.get('canvas');
    this.modeler.get('selection').select(shape);
    if (canvas.scrollToElement) { canvas.scrollToElement(shape, { top: 120, bottom: 120, left: 120, right: 120 }); }
  }
}

/** The message without the server's "元素 <id>（名称）: " in front: the list and the marker name the element already. */
function shortMessage(problem) {
  if (!problem.element) { return problem.message; }
  const id = problem.element.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return problem.message.replace(new RegExp('^元素\\s*' + id + '(（[^）]*）)?\\s*[:：]\\s*'), '');
}

function formatTime(iso) {
  if (!iso) { return ''; }
  return String(iso).replace('T', ' ').slice(0, 16);
}

/** A .bpmn file as text, in the encoding its XML declaration names (MIWG files are ISO-8859-1). */
function readAsXmlText(reader, file) {
  const sniff = new FileReader();
  sniff.onload = () => {
    const head = new Uint8Array(sniff.result);
    const text = String.fromCharCode.apply(null, Array.from(head));
    const match = /encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(text);
    reader.readAsText(file, match ? match[1] : 'UTF-8');
  };
  sniff.onerror = () => reader.readAsText(file, 'UTF-8');
  sniff.readAsArrayBuffer(file.slice(0, 200));
}

function boot() {
  const root = document.querySelector('[data-bdd-modeler]');
  if (!root) { return; }
  const missing = root.querySelector('[data-role=not-built]');
  if (missing) { missing.hidden = true; }
  const page = new ModelerPage(root);
  window.bddModelerPage = page;
  page.start().catch((error) => {
    page.say('模型编辑器启动失败：' + error.message, 'error');
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', boot);
} else {
  boot();
}

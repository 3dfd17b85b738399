/* The properties a process administrator sets without touching XML: the spiffworkflow extensions our
   diagrams use (processes/README.md) and the requirement ID each element cites. Labels in Chinese. */

import { h } from '@bpmn-io/properties-panel/preact';
import { useCallback } from '@bpmn-io/properties-panel/preact/hooks';
import {
  CheckboxEntry, Group, SelectEntry, TextAreaEntry, TextFieldEntry,
  isCheckboxEntryEdited, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';

// R-9.1.1.2, R-4.c, R-9.1.3.1–2, as bdd_workflow/requirements.py reads them.
const LEADING_CITATION = /^\s*(R-\d+(?:\.(?:\d+|[a-e]))*(?:[–-]\d+)?)/;

const TIMER_TYPES = [
  { value: 'timeDate', label: '日期（timeDate）' },
  { value: 'timeDuration', label: '时长（timeDuration）' },
  { value: 'timeCycle', label: '周期（timeCycle）' }
];

/* ---------- reading and writing the model ---------- */

function extensionValues(bo) {
  return (bo.extensionElements && bo.extensionElements.get('values')) || [];
}

function findExtension(bo, type) {
  return extensionValues(bo).find((value) => is(value, type));
}

export function spiffProperty(bo, name) {
  const container = findExtension(bo, 'spiffworkflow:Properties');
  const property = container && container.get('properties').find((p) => p.name === name);
  return property ? property.value || '' : '';
}

function update(element, moddleElement, properties) {
  return { cmd: 'element.updateModdleProperties', context: { element, moddleElement, properties } };
}

function execute(injector, commands) {
  if (commands.length) {
    injector.get('commandStack').execute('properties-panel.multi-command-executor', commands);
  }
}

/** The extensionElements of ``bo``, created (with the command that adds it) when missing. */
function ensureExtensionElements(element, bo, bpmnFactory, commands) {
  let extensionElements = bo.extensionElements;
  if (!extensionElements) {
    extensionElements = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    extensionElements.$parent = bo;
    commands.push(update(element, bo, { extensionElements }));
  }
  return extensionElements;
}

function setSpiffProperty(injector, element, name, value) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const commands = [];
  value = (value || '').trim();
  let container = findExtension(bo, 'spiffworkflow:Properties');
  let property = container && container.get('properties').find((p) => p.name === name);
  if (!value) {
    if (property) {
      commands.push(update(element, container, { properties: container.get('properties').filter((p) => p !== property) }));
    }
    return execute(injector, commands);
  }
  if (property) {
    commands.push(update(element, property, { value }));
    return execute(injector, commands);
  }
  const extensionElements = ensureExtensionElements(element, bo, bpmnFactory, commands);
  if (!container) {
    container = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    container.$parent = extensionElements;
    commands.push(update(element, extensionElements, { values: [...extensionElements.get('values'), container] }));
  }
  property = bpmnFactory.create('spiffworkflow:Property', { name, value });
  property.$parent = container;
  commands.push(update(element, container, { properties: [...container.get('properties'), property] }));
  execute(injector, commands);
}

function bodyExtension(bo, type) {
  const found = findExtension(bo, type);
  return found ? found.value || '' : '';
}

function setBodyExtension(injector, element, type, value) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const commands = [];
  const found = findExtension(bo, type);
  if (!value || !value.trim()) {
    if (found) {
      commands.push(update(element, bo.extensionElements, {
        values: bo.extensionElements.get('values').filter((v) => v !== found)
      }));
    }
  } else if (found) {
    commands.push(update(element, found, { value }));
  } else {
    const extensionElements = ensureExtensionElements(element, bo, bpmnFactory, commands);
    const created = bpmnFactory.create(type, { value });
    created.$parent = extensionElements;
    commands.push(update(element, extensionElements, { values: [...extensionElements.get('values'), created] }));
  }
  execute(injector, commands);
}

function documentationText(bo) {
  const docs = bo.get('documentation') || [];
  return docs.length ? docs[0].text || '' : '';
}

export function leadingRequirement(text) {
  const match = LEADING_CITATION.exec(text || '');
  return match ? match[1] : '';
}

function setLeadingRequirement(injector, element, requirementId) {
  const bo = getBusinessObject(element);
  const bpmnFactory = injector.get('bpmnFactory');
  const docs = bo.get('documentation') || [];
  const text = docs.length ? docs[0].text || '' : '';
  const current = leadingRequirement(text);
  let rest = current ? text.replace(LEADING_CITATION, '').replace(/^\s+/, '') : text;
  const next = requirementId ? (rest ? requirementId + ' ' + rest : requirementId) : rest;
  if (docs.length) {
    execute(injector, [update(element, docs[0], { text: next })]);
  } else if (next) {
    const documentation = bpmnFactory.create('bpmn:Documentation', { text: next });
    documentation.$parent = bo;
    execute(injector, [update(element, bo, { documentation: [documentation] })]);
  }
}

function timerDefinition(bo) {
  return (bo.get('eventDefinitions') || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
}

function timerType(definition) {
  return TIMER_TYPES.map((t) => t.value).find((t) => definition && definition.get(t)) || '';
}

/* ---------- lanes are roles ---------- */

function participantOf(element) {
  let shape = element;
  while (shape && !is(shape, 'bpmn:Participant')) { shape = shape.parent; }
  return shape;
}

function leafLanes(elementRegistry, element) {
  const participant = participantOf(element);
  return elementRegistry.filter((shape) => is(shape, 'bpmn:Lane')
    && !(shape.businessObject.childLaneSet && shape.businessObject.childLaneSet.get('lanes').length)
    && (!participant || participantOf(shape) === participant));
}

function roleOfLane(roles, laneName) {
  const name = (laneName || '').trim();
  const found = roles.find((r) => r.lane === name || r.role === name);
  return found ? found.role : '';
}

function laneOf(elementRegistry, element) {
  const bo = getBusinessObject(element);
  return leafLanes(elementRegistry, element).find((lane) => (lane.businessObject.get('flowNodeRef') || []).includes(bo));
}

/* ---------- entries ---------- */

function SelectProp(props) {
  return h(SelectEntry, props);
}

function useBdd() {
  return { options: useService('bddOptions'), injector: useService('injector') };
}

function RequirementEntry({ element, id }) {
  const { options, injector } = useBdd();
  const getValue = () => leadingRequirement(documentationText(getBusinessObject(element)));
  const getOptions = () => {
    const current = getValue();
    const list = [{ value: '', label: '（未引用需求）' }];
    if (current && !options.requirements.some((r) => r.id === current)) {
      list.push({ value: current, label: current + '（当前）' });
    }
    options.requirements.forEach((r) => {
      const title = r.title.length > 36 ? r.title.slice(0, 36) + '…' : r.title;
      list.push({ value: r.id, label: r.id + ' ' + title });
    });
    return list;
  };
  return h(SelectProp, {
    element, id, label: '需求编号', getValue, getOptions,
    setValue: (value) => setLeadingRequirement(injector, element, value),
    description: '写在文档说明开头，例如 R-9.1.3.2；bdd check 只认可规范中定义的编号。'
  });
}

function FormEntry({ element, id, label, blank, description }) {
  const { options, injector } = useBdd();
  const getValue = () => spiffProperty(getBusinessObject(element), 'form');
  const getOptions = () => {
    const current = getValue();
    const list = [{ value: '', label: blank || '（请选择表单）' }];
    if (current && !options.forms.some((f) => f.name === current)) {
      list.push({ value: current, label: current + '（forms/ 中没有这个表单）' });
    }
    options.forms.forEach((f) => list.push({ value: f.name, label: f.title ? f.title + '（' + f.name + '）' : f.name }));
    return list;
  };
  return h(SelectProp, {
    element, id, label: label || '表单', getValue, getOptions,
    setValue: (value) => setSpiffProperty(injector, element, 'form', value),
    description: description || '办理这一步时填写的表单（forms/ 目录中的文件名）。'
  });
}

function LaneEntry({ element, id }) {
  const { options, injector } = useBdd();
  const elementRegistry = useService('elementRegistry');
  const getValue = () => {
    const lane = laneOf(elementRegistry, element);
    return lane ? roleOfLane(options.roles, lane.businessObject.name) || ('lane:' + lane.id) : '';
  };
  const getOptions = () => {
    const current = getValue();
    const list = [{ value: '', label: '（不在任何泳道）' }];
    if (current.startsWith('lane:')) {
      const lane = elementRegistry.get(current.slice(5));
      list.push({ value: current, label: '“' + (lane.businessObject.name || lane.id) + '”（不是角色）' });
    }
    options.roles.forEach((r) => list.push({ value: r.role, label: r.lane + '（' + r.role + '）' }));
    return list;
  };
  const targetLane = (role) => leafLanes(elementRegistry, element)
    .find((lane) => roleOfLane(options.roles, lane.businessObject.name) === role);
  // Stable, so that the entry's error stays shown after a refusal (the entry re-validates when it changes).
  const validate = useCallback((role) => {
    if (!role || role.startsWith('lane:')) { return null; }
    if (!targetLane(role)) {
      const title = (options.roles.find((r) => r.role === role) || {}).lane || role;
      return '本流程图没有“' + title + '”泳道：请先在参与者中添加名为“' + title + '”的泳道，再把任务移入。';
    }
    return null;
  }, [element]);
  const setValue = (role, error) => {
    if (error || !role || role.startsWith('lane:')) { return; }
    const lane = targetLane(role);
    const laneMid = lane.y + lane.height / 2;
    const mid = element.y + element.height / 2;
    injector.get('modeling').moveElements([element], { x: 0, y: Math.round(laneMid - mid) });
  };
  return h(SelectProp, {
    element, id, label: '角色（泳道）', getValue, getOptions, setValue, validate,
    description: '任务交给哪个角色办理：选择后任务移入该角色的泳道。'
  });
}

function SpiffPropertyText({ element, id, name, label, description }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label, description, debounce,
    getValue: () => spiffProperty(getBusinessObject(element), name),
    setValue: (value) => setSpiffProperty(injector, element, name, value)
  });
}

function BodyExtensionText({ element, id, type, label, description, rows, monospace }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, label, description, debounce, rows: rows || 3, monospace,
    getValue: () => bodyExtension(getBusinessObject(element), type),
    setValue: (value) => setBodyExtension(injector, element, type, value)
  });
}

function TimerTypeEntry({ element, id }) {
  const { injector } = useBdd();
  const getValue = () => timerType(timerDefinition(getBusinessObject(element)));
  return h(SelectProp, {
    element, id, label: '定时类型', getValue,
    getOptions: () => [{ value: '', label: '（请选择）' }, ...TIMER_TYPES],
    setValue: (type) => {
      const definition = timerDefinition(getBusinessObject(element));
      const old = timerType(definition);
      if (!type || type === old) { return; }
      const body = old ? definition.get(old).body || '' : '';
      const expression = injector.get('bpmnFactory').create('bpmn:FormalExpression', { body });
      expression.$parent = definition;
      const properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      properties[type] = expression;
      execute(injector, [update(element, definition, properties)]);
    }
  });
}

function TimerExpressionEntry({ element, id }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  const definition = timerDefinition(getBusinessObject(element));
  const type = timerType(definition);
  return h(TextFieldEntry, {
    element, id, label: '定时表达式', debounce,
    description: '一个 Python 表达式，经工作日日历计算，例如 add_working_days(now(), promised_days) 或 add_duration(now(), sla("contact"))；时长要加引号："PT30M"。',
    getValue: () => {
      const expression = type && definition.get(type);
      return expression ? expression.body || '' : '';
    },
    setValue: (value) => {
      const bpmnFactory = injector.get('bpmnFactory');
      const kind = type || 'timeDate';
      const expression = bpmnFactory.create('bpmn:FormalExpression', { body: value || '' });
      expression.$parent = definition;
      execute(injector, [update(element, definition, { [kind]: expression })]);
    }
  });
}

function InterruptingEntry({ element, id }) {
  const modeling = useService('modeling');
  return h(CheckboxEntry, {
    element, id, label: '中断任务（超时后结束原任务）',
    description: '催办、升级用的边界定时器不中断任务：原任务保持待办，另起一个任务。',
    getValue: () => getBusinessObject(element).cancelActivity !== false,
    setValue: (value) => modeling.updateProperties(element, { cancelActivity: !!value })
  });
}

function ConditionEntry({ element, id }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label: '条件表达式', debounce,
    description: '对办件数据的 Python 表达式，例如 materials_complete == True；默认路径不写条件。',
    getValue: () => {
      const expression = getBusinessObject(element).conditionExpression;
      return expression ? expression.body || '' : '';
    },
    setValue: (value) => {
      const modeling = injector.get('modeling');
      if (!value || !value.trim()) {
        modeling.updateProperties(element, { conditionExpression: undefined });
        return;
      }
      const expression = injector.get('bpmnFactory').create('bpmn:FormalExpression', { body: value });
      modeling.updateProperties(element, { conditionExpression: expression });
    }
  });
}

function DefaultFlowEntry({ element, id }) {
  const modeling = useService('modeling');
  const gateway = getBusinessObject(element).sourceRef;
  return h(CheckboxEntry, {
    element, id, label: '默认路径（其他条件都不成立时）',
    getValue: () => gateway.default === getBusinessObject(element),
    setValue: (value) => {
      const source = element.source;
      modeling.updateProperties(source, { default: value ? getBusinessObject(element) : undefined });
      if (value && getBusinessObject(element).conditionExpression) {
        modeling.updateProperties(element, { conditionExpression: undefined });
      }
    }
  });
}

function ServiceOperatorText({ element, id, attr, label, description }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, label, description, debounce,
    getValue: () => {
      const operator = findExtension(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator');
      return operator ? operator.get(attr) || '' : '';
    },
    setValue: (value) => {
      const bo = getBusinessObject(element);
      const bpmnFactory = injector.get('bpmnFactory');
      const commands = [];
      const operator = findExtension(bo, 'spiffworkflow:ServiceTaskOperator');
      if (operator) {
        commands.push(update(element, operator, { [attr]: value || undefined }));
      } else if (value) {
        const extensionElements = ensureExtensionElements(element, bo, bpmnFactory, commands);
        const created = bpmnFactory.create('spiffworkflow:ServiceTaskOperator', { [attr]: value });
        created.$parent = extensionElements;
        commands.push(update(element, extensionElements, { values: [...extensionElements.get('values'), created] }));
      }
      execute(injector, commands);
    }
  });
}

function ServiceParametersEntry({ element, id }) {
  const { injector } = useBdd();
  const debounce = useService('debounceInput');
  const operator = () => findExtension(getBusinessObject(element), 'spiffworkflow:ServiceTaskOperator');
  return h(TextAreaEntry, {
    element, id, label: '参数（每行 名称 = 表达式）', debounce, rows: 3, monospace: true,
    description: "例如 process = 'callback' 和 relation = 'callback'（启动关联办件 start_case）。",
    getValue: () => {
      const op = operator();
      const list = op && op.parameterList ? op.parameterList.get('parameters') : [];
      return list.map((p) => p.id + ' = ' + (p.value || '')).join('\n');
    },
    validate: (text) => {
      const bad = (text || '').split('\n').filter((line) => line.trim() && !/^\s*[A-Za-z_]\w*\s*=/.test(line));
      return bad.length ? '每行写成 名称 = 表达式：' + bad[0] : null;
    },
    setValue: (text, error) => {
      const op = operator();
      if (error || !op) { return; }
      const bpmnFactory = injector.get('bpmnFactory');
      const commands = [];
      let parameterList = op.parameterList;
      if (!parameterList) {
        parameterList = bpmnFactory.create('spiffworkflow:Parameters', { parameters: [] });
        parameterList.$parent = op;
        commands.push(update(element, op, { parameterList }));
      }
      const parameters = (text || '').split('\n').filter((line) => line.trim()).map((line) => {
        const at = line.indexOf('=');
        const parameter = bpmnFactory.create('spiffworkflow:Parameter', {
          id: line.slice(0, at).trim(), type: 'str', value: line.slice(at + 1).trim()
        });
        parameter.$parent = parameterList;
        return parameter;
      });
      commands.push(update(element, parameterList, { parameters }));
      execute(injector, commands);
    }
  });
}

function ScriptEntry({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, label: '脚本（Python，受限执行）', debounce, rows: 6, monospace: true,
    description: '不能 import、不能访问双下划线属性和文件，运行时间有上限。',
    getValue: () => getBusinessObject(element).script || '',
    setValue: (value) => modeling.updateProperties(element, { script: value || undefined, scriptFormat: value ? 'python' : undefined })
  });
}

/* ---------- groups ---------- */

function entry(id, component, isEdited, extra) {
  return Object.assign({ id, component, isEdited }, extra || {});
}

function isCitable(element) {
  return isAny(element, ['bpmn:FlowNode', 'bpmn:SequenceFlow', 'bpmn:Participant', 'bpmn:Process', 'bpmn:Lane']);
}

function fromExclusiveGateway(element) {
  return is(element, 'bpmn:SequenceFlow') && element.source
    && isAny(element.source, ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway']);
}

export default function BddPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(400, this);
}

BddPropertiesProvider.$inject = ['propertiesPanel'];

BddPropertiesProvider.prototype.getGroups = function (element) {
  return (groups) => {
    const ours = [];
    const bo = getBusinessObject(element);
    if (isCitable(element)) {
      ours.push({ id: 'bdd-requirement', label: '需求', component: Group,
        entries: [entry('bdd-requirement', RequirementEntry, isSelectEntryEdited)] });
    }
    if (is(element, 'bpmn:UserTask')) {
      ours.push({ id: 'bdd-user-task', label: '用户任务', component: Group, entries: [
        entry('bdd-form', FormEntry, isSelectEntryEdited),
        entry('bdd-lane', LaneEntry, isSelectEntryEdited),
        entry('bdd-due-date', SpiffPropertyText, isTextFieldEntryEdited, { name: 'dueDate', label: '期限表达式（dueDate）',
          description: '任务就绪时计算一次，例如 add_working_days(now(), promised_days)；留空表示不设期限。' }),
        entry('bdd-unit', SpiffPropertyText, isTextFieldEntryEdited, { name: 'unit', label: '办理单位表达式（unit）',
          description: '默认 handling_unit（路由决策确定的承办单位）；例如 unit_of_kind("consultation_centre")。' }),
        entry('bdd-instructions', BodyExtensionText, isTextAreaEntryEdited, { type: 'spiffworkflow:InstructionsForEndUser',
          label: '办理说明', description: '显示在表单上方给办理人看的中文说明。', rows: 4 })
      ] });
    }
    if (is(element, 'bpmn:StartEvent') && !is(bo.$parent, 'bpmn:SubProcess')) {
      ours.push({ id: 'bdd-start-event', label: '发起', component: Group, entries: [
        entry('bdd-start-form', FormEntry, isSelectEntryEdited, { label: '发起表单', blank: '（除服务对象信息外不需填写）',
          description: '发起办件时，除服务对象信息外还要填写并校验的字段，例如上门办的上门地址（R-9.3.1）。' })
      ] });
    }
    if (is(element, 'bpmn:ServiceTask')) {
      ours.push({ id: 'bdd-service-task', label: '服务任务', component: Group, entries: [
        entry('bdd-operator', ServiceOperatorText, isTextFieldEntryEdited, { attr: 'id', label: '操作（operator）',
          description: '已注册的服务，例如 start_case（启动关联办件）。' }),
        entry('bdd-result-variable', ServiceOperatorText, isTextFieldEntryEdited, { attr: 'resultVariable', label: '结果变量' }),
        entry('bdd-parameters', ServiceParametersEntry, isTextAreaEntryEdited)
      ] });
    }
    if (is(element, 'bpmn:BusinessRuleTask')) {
      ours.push({ id: 'bdd-decision', label: '决策', component: Group, entries: [
        entry('bdd-called-decision', BodyExtensionText, isTextAreaEntryEdited, { type: 'spiffworkflow:CalledDecisionId',
          label: '决策表编号（calledDecisionId）', rows: 1, monospace: true })
      ] });
    }
    if (is(element, 'bpmn:Event') && timerDefinition(bo)) {
      const entries = [entry('bdd-timer-type', TimerTypeEntry, isSelectEntryEdited)];
      if (timerType(timerDefinition(bo))) { entries.push(entry('bdd-timer-expression', TimerExpressionEntry, isTextFieldEntryEdited)); }
      if (is(element, 'bpmn:BoundaryEvent')) { entries.push(entry('bdd-interrupting', InterruptingEntry, isCheckboxEntryEdited)); }
      ours.push({ id: 'bdd-timer', label: '定时器', component: Group, entries });
    }
    if (fromExclusiveGateway(element)) {
      ours.push({ id: 'bdd-condition', label: '条件', component: Group, entries: [
        entry('bdd-condition', ConditionEntry, isTextFieldEntryEdited),
        entry('bdd-default-flow', DefaultFlowEntry, isCheckboxEntryEdited)
      ] });
    }
    if (is(element, 'bpmn:ScriptTask')) {
      ours.push({ id: 'bdd-script', label: '脚本', component: Group,
        entries: [entry('bdd-script', ScriptEntry, isTextAreaEntryEdited)] });
    }
    if (is(element, 'bpmn:Task') && !is(element, 'bpmn:ScriptTask')) {
      ours.push({ id: 'bdd-scripts', label: '前后脚本', component: Group, entries: [
        entry('bdd-pre-script', BodyExtensionText, isTextAreaEntryEdited, { type: 'spiffworkflow:PreScript',
          label: '开始前脚本（preScript）', monospace: true }),
        entry('bdd-post-script', BodyExtensionText, isTextAreaEntryEdited, { type: 'spiffworkflow:PostScript',
          label: '完成后脚本（postScript）', monospace: true })
      ] });
    }
    // The standard timer group is replaced by ours (Chinese, and the expression is Python, not FEEL).
    const rest = groups.filter((g) => g.id !== 'timer');
    const general = rest.findIndex((g) => g.id === 'general');
    rest.splice(general + 1, 0, ...ours);
    return rest;
  };
};

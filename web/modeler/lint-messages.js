/* bpmnlint's messages with a Chinese explanation in front; the rule name stays, so the rule's own
   documentation can be looked up. */

const ZH = {
  'ad-hoc-sub-process': '自由子流程的内容不合规',
  'conditional-flows': '网关后的连线缺少条件（或应设为默认路径）',
  'end-event-required': '流程缺少结束事件',
  'event-based-gateway': '事件网关的用法不合规',
  'event-sub-process-typed-start-event': '事件子流程的开始事件必须有类型',
  'fake-join': '多条连线直接汇入一个任务，未经汇合网关',
  'global': '全局元素（消息、信号等）未被使用或重复',
  'label-required': '元素缺少名称',
  'link-event': '链接事件不成对',
  'no-bpmndi': '元素没有图形（缺少 BPMNDI）',
  'no-complex-gateway': '不支持复杂网关',
  'no-disconnected': '元素没有连线',
  'no-duplicate-sequence-flows': '两个元素之间有重复的连线',
  'no-gateway-join-fork': '网关同时汇合又分支',
  'no-implicit-split': '一个元素有多条流出连线却没有网关（隐式分支）',
  'no-implicit-end': '元素没有流出连线却不是结束事件（隐式结束）',
  'no-implicit-start': '元素没有流入连线却不是开始事件（隐式开始）',
  'no-inclusive-gateway': '不建议使用包容网关',
  'no-overlapping-elements': '元素重叠',
  'single-blank-start-event': '只能有一个空白开始事件',
  'single-event-definition': '事件只能有一个事件定义',
  'start-event-required': '流程缺少开始事件',
  'sub-process-blank-start-event': '子流程的开始事件必须是空白事件',
  'superfluous-gateway': '网关只有一进一出，多余',
  'superfluous-label': '元素不应有名称',
  'superfluous-termination': '终止结束事件多余'
};

export function lintMessage(rule, message) {
  const zh = ZH[rule];
  return (zh ? zh + '（' + rule + '：' + message + '）' : rule + '：' + message);
}

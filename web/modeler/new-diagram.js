/* The diagram 新建 starts from: one pool with the assistant's lane and a start event, following
   processes/README.md (executable process, Chinese name, requirement IDs in the documentation). */

export function newDiagram() {
  const id = 'new_process';
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_${id}" targetNamespace="http://chengan.gov.cn/bdd/processes" exporter="bdd_workflow modeler" exporterVersion="1.0">
  <bpmn:collaboration id="Collaboration_${id}">
    <bpmn:participant id="Participant_${id}" name="新流程" processRef="${id}"/>
  </bpmn:collaboration>
  <bpmn:process id="${id}" name="新流程" isExecutable="true">
    <bpmn:laneSet id="LaneSet_${id}">
      <bpmn:lane id="Lane_assistant" name="帮办员">
        <bpmn:flowNodeRef>${id}_started</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="${id}_started" name="提出申请"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_${id}">
    <bpmndi:BPMNPlane id="BPMNPlane_${id}" bpmnElement="Collaboration_${id}">
      <bpmndi:BPMNShape id="Participant_${id}_di" bpmnElement="Participant_${id}" isHorizontal="true">
        <dc:Bounds x="150" y="80" width="900" height="250"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_assistant_di" bpmnElement="Lane_assistant" isHorizontal="true">
        <dc:Bounds x="180" y="80" width="870" height="250"/>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="${id}_started_di" bpmnElement="${id}_started">
        <dc:Bounds x="252" y="187" width="36" height="36"/>
        <bpmndi:BPMNLabel><dc:Bounds x="243" y="228" width="54" height="14"/></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}

"""Specs are stored once per deployed version; instances are stored without them.

SpiffWorkflow's own serializer writes the spec into every workflow (about half the JSON). Here
the workflow converter is replaced by one that leaves the spec out and is handed the already
deserialized spec when a case is loaded, so a request deserializes only the case's tasks.
"""

from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .timers import CLOCKED

STATE_FORMAT = 1


class InstanceConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its specs."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct, spec, subprocess_specs):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class Serializer:
    """Spec <-> JSON (once per deployed version) and workflow state <-> JSON (every request)."""

    def __init__(self) -> None:
        self.registry = self._registry()
        self.instances = InstanceConverter(BpmnWorkflow, self.registry)
        # SpiffWorkflow's own format (spec included) needs the stock workflow converter.
        self._full = BpmnWorkflowSerializer(self._registry())
        # As SpiffWorkflow's own serialize_json: task data deltas may hold datetimes, timedeltas, sets.
        self._encoder = create_encoder(self.registry)

    @staticmethod
    def _registry():
        config = dict(SPIFF_CONFIG)
        config.update({clocked: TimerConditionalEventDefinitionConverter for clocked in CLOCKED.values()})
        registry = BpmnWorkflowSerializer.configure(config)
        # A script may leave a set in the case data; it is kept as one.
        registry.register(set, lambda v: {"items": sorted(v, key=repr)}, lambda v: set(v["items"]), "set")
        return registry

    def dump_spec(self, spec, subprocess_specs) -> str:
        return json.dumps({
            "spec": self.registry.convert(spec),
            "subprocess_specs": {name: self.registry.convert(s) for name, s in subprocess_specs.items()},
        }, ensure_ascii=False)

    def load_spec(self, spec_json: str):
        dct = json.loads(spec_json)
        spec = self.registry.restore(dct["spec"])
        subprocess_specs = {name: self.registry.restore(s) for name, s in dct["subprocess_specs"].items()}
        return spec, subprocess_specs

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        self.registry._encoder_mode = True
        try:
            dct = self.instances.to_dict(workflow)
            dct["format"] = STATE_FORMAT
            return json.dumps(dct, cls=self._encoder, ensure_ascii=False, separators=(",", ":"))
        finally:
            self.registry._encoder_mode = False

    def dump_full(self, workflow: BpmnWorkflow) -> str:
        """SpiffWorkflow's own format, spec included (for export and comparison)."""
        return self._full.serialize_json(workflow)

    def load_full(self, serialized: str) -> BpmnWorkflow:
        return self._full.deserialize_json(serialized)

    def load_state(self, state_json: str, spec, subprocess_specs) -> BpmnWorkflow:
        dct = json.loads(state_json)
        dct.pop("format", None)
        return self.instances.restore(dct, spec, subprocess_specs)

"""成安县政务服务帮办代办上门办: BPMN procedures of the county's help desks, run by SpiffWorkflow."""

__version__ = "0.1.0"

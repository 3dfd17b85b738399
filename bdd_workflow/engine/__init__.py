"""SpiffWorkflow and nothing else: parse, check, run and serialize diagrams. No Flask, no SQL."""

"""Flask blueprints: parse the request, call one service, render. Nothing else."""

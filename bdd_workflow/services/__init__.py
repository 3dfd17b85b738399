"""Use cases as plain functions. Each opens one unit of work; none imports Flask."""

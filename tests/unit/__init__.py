"""Unit tests: no database, no Flask. A package so that module names never clash with other test folders."""

"""Robustness pages: `runs` (request, watch, cancel, re-run, files) and `results` (tables and charts)."""

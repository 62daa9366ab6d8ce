"""Versioned framework catalogs (YAML data) and their pure-Python parser.

See ``README.md`` in this folder and :mod:`governance.catalogs.schema`.
"""

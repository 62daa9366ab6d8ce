"""Fault tests run real robustness runs: the runs' fixtures (a tiny model in Acme, private media)."""

from tests.robustness.runs.conftest import private_media, system, version  # noqa: F401

"""Engine error types: every failure the Django side should show as a clear run failure.

The seam (`robustness/services.py`) catches `EngineError` and stores `str(error)` as the
run's terminal error message, so each message names what is wrong and, where it helps,
what to do about it.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of all errors the engine raises on bad input (terminal, never retried)."""


class CheckpointError(EngineError):
    """A checkpoint file is unreadable, unsafe (pickle code) or does not fit the model."""


class DatasetError(EngineError):
    """An evaluation dataset is malformed, hostile or unsuitable for the model."""


class ModelConfigError(EngineError):
    """An architecture, model config or pretrained tag cannot be resolved offline."""

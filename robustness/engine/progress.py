"""Progress reporting and cancellation shared by evaluation and retraining."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from robustness.engine.errors import EngineError


class ProgressCallback(Protocol):
    """Called after each unit of work: (done, total, message, eta seconds or None)."""

    def __call__(self, done: int, total: int, message: str, eta: float | None) -> None: ...


ShouldCancel = Callable[[], bool]


class Cancelled(EngineError):
    """The caller asked to stop; raised between batches or steps, never mid-update.

    `partial` holds what was finished (an `EvaluationPartial`, or the last retraining step).
    """

    def __init__(self, message: str, partial: object = None) -> None:
        super().__init__(message)
        self.partial = partial


class EvaluationCancelled(Cancelled):
    """An evaluation was cancelled between batches."""


class RetrainingCancelled(Cancelled):
    """A retraining was cancelled between steps."""


@dataclass
class EtaClock:
    """Linear ETA from the time per unit so far (units done in this process only)."""

    total: int
    started: float = 0.0
    done_at_start: int = 0

    def start(self, done: int) -> None:
        self.started, self.done_at_start = time.monotonic(), done

    def eta(self, done: int) -> float | None:
        finished_here = done - self.done_at_start
        if finished_here <= 0:
            return None
        per_unit = (time.monotonic() - self.started) / finished_here
        return per_unit * (self.total - done)

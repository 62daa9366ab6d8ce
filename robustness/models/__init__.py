from robustness.models.runs import (
    AlertKind,
    AnchorAnalysis,
    EvaluationRun,
    EvaluationShard,
    RetrainingRun,
    RobustnessAlert,
    RobustnessRun,
    RunJob,
    RunStatus,
    RunTrigger,
)

__all__ = ["AlertKind", "AnchorAnalysis", "EvaluationRun", "EvaluationShard", "RetrainingRun", "RobustnessAlert",
           "RobustnessRun", "RunJob", "RunStatus", "RunTrigger"]

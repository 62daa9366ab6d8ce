from robustness.models.runs import (
    AlertKind,
    AnchorAnalysis,
    EvaluationRun,
    EvaluationShard,
    LeasedJob,
    RetrainingRun,
    RobustnessAlert,
    RobustnessRun,
    RunStatus,
    RunTrigger,
)

__all__ = ["AlertKind", "AnchorAnalysis", "EvaluationRun", "EvaluationShard", "LeasedJob", "RetrainingRun",
           "RobustnessAlert", "RobustnessRun", "RunStatus", "RunTrigger"]

"""What a run's page shows once it has results: charts and tables, per kind of run."""

from __future__ import annotations

from typing import Any

from robustness import charts
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RobustnessRun
from robustness.services.comparisons import before_after


def results_context(run: RobustnessRun) -> dict[str, Any]:
    if isinstance(run, EvaluationRun):
        return _evaluation(run)
    if isinstance(run, AnchorAnalysis):
        return _anchors(run)
    if isinstance(run, RetrainingRun):
        return _retraining(run)
    return {}


def _evaluation(run: EvaluationRun) -> dict[str, Any]:
    record = run.result.get("record")
    context: dict[str, Any] = {"record": record, "examples": run.result.get("examples", []),
                               "shards": list(run.shards.all()) if run.shard_count > 1 else [],
                               "run_alerts": list(run.alerts.select_related("finding").order_by("pk"))}
    if not record:
        return context
    context["accuracy_chart"] = charts.accuracy_vs_epsilon(record)
    worst = max(record["results"], key=lambda item: item["eps"], default=None)
    names = [row["class_name"] for row in record["clean_per_class"]]
    series = [("clean", [row["accuracy"] for row in record["clean_per_class"]])]
    if worst is not None:
        series.append((f"{worst['attack']} @ {worst['eps_label']}", [row["accuracy"] for row in worst["per_class"]]))
    context["per_class_chart"] = charts.grouped_bars(names, series, "Accuracy per class")
    return context


def _anchors(run: AnchorAnalysis) -> dict[str, Any]:
    result = run.result
    if not result:
        return {}
    maps = []
    for key, title in (("train_before", "Training classes, before expansion"),
                       ("train_after", "Training classes, after expansion"),
                       ("target_before", "New classes, before expansion"),
                       ("target_after", "New classes, after expansion")):
        part = result.get(key)
        if part:
            maps.append({"title": title, "summary": part,
                         "svg": charts.heat_map(part["class_names"], part["similarity"], title)})
    return {"anchor": result, "heat_maps": maps}


def _retraining(run: RetrainingRun) -> dict[str, Any]:
    from robustness.services.retraining import parent_and_child_evaluations

    before, after = parent_and_child_evaluations(run)
    before_record = before.result.get("record") if before else None
    after_record = after.result.get("record") if after else None
    rows = before_after(before_record, after_record)
    context: dict[str, Any] = {"before_run": before, "after_run": after, "comparison": rows,
                               "loss_chart": charts.loss_curve(run.result.get("losses", []))}
    if before_record or after_record:
        context["before_after_chart"] = charts.grouped_bars(
            [row["what"] for row in rows],
            [("before", [row["before"] for row in rows]), ("after", [row["after"] for row in rows])],
            "Accuracy before and after retraining")
    return context

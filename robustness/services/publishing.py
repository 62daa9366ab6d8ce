"""A finished evaluation into governance: record, evidence version, threshold findings, regressions.

All of it commits in ONE transaction together with the run's change to `succeeded`, which is
conditional on the worker still owning the run: a run therefore ends with exactly one result
and one evidence version, however often its task was delivered.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import asdict
from typing import Any

from django.db import transaction

from assessments.models.evidence import Evidence, EvidenceKind, EvidenceSource, EvidenceVersion
from assessments.services.evidence import evidence_create, evidence_version_add
from assessments.services.findings import finding_create
from governance.jobs import Claim, job_succeeded
from governance.models.catalog import Crosswalk, Requirement
from robustness.engine.records import RobustnessRecord
from robustness.models import AlertKind, EvaluationRun, RobustnessAlert, RunStatus
from robustness.services import artifacts
from robustness.services.comparisons import regressions_find, threshold_failures
from robustness.services.outcomes import remove_tree
from robustness.services.run_settings import evaluation_comparable

logger = logging.getLogger(__name__)

# The requirements a robustness evaluation is evidence for (docs/architecture.md, flow step 4).
SUPPORTED_REQUIREMENT_URNS = (
    "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.5",
    "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.6",
    "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.7",
    "urn:anchorage:req:iso-iec-42001:2023:a.6.2.4",
    "urn:anchorage:req:eu-ai-act:2024-1689:art-15-1",
    "urn:anchorage:req:eu-ai-act:2024-1689:art-15-3",
    "urn:anchorage:req:eu-ai-act:2024-1689:art-15-5",
)
SOURCE = EvidenceSource.ROBUSTNESS_RUN


def supported_requirements() -> list[Requirement]:
    """The named requirements plus their crosswalk partners (empty where catalogs are not loaded)."""
    direct = list(Requirement.objects.filter(urn__in=SUPPORTED_REQUIREMENT_URNS))
    ids = {requirement.pk for requirement in direct}
    # Only themed rows: the untyped pairs imported from Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk carry no theme,
    # and would hang a robustness run on AI-policy and data controls (MEASURE 2.7 → A.2.3, A.7.2, ...).
    walks = Crosswalk.objects.exclude(theme="")
    partners = set(walks.filter(source_id__in=ids).values_list("target_id", flat=True))
    partners |= set(walks.filter(target_id__in=ids).values_list("source_id", flat=True))
    return list(Requirement.objects.filter(pk__in=ids | partners).order_by("framework_id", "order"))


def summary_render(run: EvaluationRun, record: dict[str, Any]) -> str:
    """The human-readable summary stored with the record (Markdown)."""
    clean = record["clean_accuracy"]
    lines = [f"# Robustness evaluation #{run.pk}: {run.ai_system.name} {run.model_version.version}", "",
             f"Dataset {record['dataset']}, {record['n_examples']} examples, {record['n_classes']} classes, "
             f"seed {record['seed']}, device {record['device']}.", "",
             f"Clean accuracy: {clean['value']:.1%} (95 % CI {clean['low']:.1%}–{clean['high']:.1%}).", "",
             "| attack | threat model | ε | robust accuracy | 95 % CI | attack success |", "|---|---|---|---|---|---|"]
    for item in record["results"]:
        robust, success = item["robust_accuracy"], item["attack_success_rate"]
        lines.append(f"| {item['attack']} | {item['threat_model']} | {item['eps_label']} | {robust['value']:.1%} | "
                     f"{robust['low']:.1%}–{robust['high']:.1%} | {success['value']:.1%} |")
    return "\n".join(lines) + "\n"


def _evidence_for(run: EvaluationRun, requirements: list[Requirement]) -> Evidence:
    title = f"Adversarial robustness: {run.ai_system.name} {run.model_version.version}"
    # Only evidence that runs made: a person's evidence under the same title is never published into.
    existing = (Evidence.objects.filter(organisation_id=run.organisation_id, ai_system=run.ai_system, title=title,
                                        kind=EvidenceKind.ROBUSTNESS_RESULT,
                                        versions__source=SOURCE)
                .order_by("pk").first())
    return existing or evidence_create(organisation=run.organisation, title=title, actor=None,
                                       kind=EvidenceKind.ROBUSTNESS_RESULT, ai_system=run.ai_system,
                                       requirements=requirements)


def evaluation_publish(*, claim: Claim, run: EvaluationRun, record: RobustnessRecord, provenance: dict[str, Any],
                       prepared: Any) -> None:
    """Artifacts first (staged, moved into place), then everything else in one transaction.

    Whatever fails (a full disk, a lost lease, a dropped connection), the run's files go again:
    no folder of this attempt, and no empty run folder, outlives a run that did not succeed.
    """
    staging = artifacts.staging_directory("evaluations", run.pk)
    try:
        examples = artifacts.adversarial_examples_write(
            classifier=prepared.classifier, dataset=prepared.data.dataset, class_names=prepared.class_names,
            config=prepared.config, folder=staging)
        (staging / "record.json").write_text(record.to_json(), encoding="utf-8")
    except BaseException:
        remove_tree(staging)
        raise
    final = artifacts.staging_commit(staging, "evaluations", run.pk, claim.attempt)
    try:
        evaluation_finish(claim=claim, run=run, record=json.loads(record.to_json()), provenance=provenance,
                          examples=examples, files=artifacts.artifact_list(final))
    except BaseException:
        remove_tree(final)
        with contextlib.suppress(OSError):  # only when empty: another attempt may own files there
            final.parent.rmdir()
        raise


@transaction.atomic
def evaluation_finish(*, claim: Claim, run: EvaluationRun, record: dict[str, Any], provenance: dict[str, Any],
                      examples: list[dict[str, Any]], files: list[dict[str, Any]]) -> None:
    requirements = supported_requirements()
    summary = summary_render(run, record)
    version = _evidence_version_add(run, record, summary, provenance, requirements)
    try:
        result = {"record": record, "summary": summary, "examples": examples,
                  "evidence_sha256": version.sha256, "evidence_version_id": version.pk}
        job_succeeded(claim, message="Finished.", result=result, provenance=provenance, artifacts=files,
                      evidence_version=version, checkpoint={})
        run.result = result
        _threshold_finding(run, record, requirements)
        _regression_finding(run, record, requirements)
    except BaseException:
        version.file.delete(save=False)  # the transaction rolls back: its evidence file must not stay
        raise


def _evidence_version_add(run: EvaluationRun, record: dict[str, Any], summary: str, provenance: dict[str, Any],
                          requirements: list[Requirement]) -> EvidenceVersion:
    document = {"record": record, "summary": summary, "provenance": provenance,
                "run": {"id": run.pk, "config": run.config, "ai_system": run.ai_system.name,
                        "model_version": run.model_version.version, "trigger": run.trigger}}
    return evidence_version_add(
        evidence=_evidence_for(run, requirements), actor=None,
        content=json.dumps(document, sort_keys=True, indent=1).encode(), filename=f"evaluation-{run.pk}.json",
        source=SOURCE,
        metadata={"record": record, "summary": summary, "run_id": run.pk, "provenance": provenance,
                  "model_version": run.model_version.version, "model_version_label":
                  f"{run.model_version.version}", "ai_system_id": run.ai_system_id})


def _threshold_finding(run: EvaluationRun, record: dict[str, Any], requirements: list[Requirement]) -> None:
    failures = threshold_failures(record, run.ai_system.robustness_thresholds or [])
    if not failures:
        return
    lines = [f"- {f['label']}: measured {f['measured']:.1%}, required at least {f['minimum']:.1%}"
             for f in failures]
    finding = finding_create(
        organisation=run.organisation, actor=None, source=SOURCE, ai_system=run.ai_system, severity="high",
        title=f"Robustness below threshold: {run.ai_system.name} {run.model_version.version}",
        description=f"Evaluation run #{run.pk} fell below the thresholds set in advance:\n" + "\n".join(lines),
        requirements=requirements, metadata={"run_id": run.pk, "failures": failures})
    RobustnessAlert.objects.create(organisation=run.organisation, ai_system=run.ai_system, evaluation=run,
                                   kind=AlertKind.BELOW_THRESHOLD, finding=finding,
                                   summary=f"{len(failures)} threshold(s) failed in evaluation #{run.pk}",
                                   details={"failures": failures})


def previous_evaluation(run: EvaluationRun) -> EvaluationRun | None:
    """The last successful run of the same version on the same data and settings."""
    candidates = (EvaluationRun.objects.filter(model_version=run.model_version, dataset=run.dataset,
                                               status=RunStatus.SUCCEEDED).exclude(pk=run.pk)
                  .order_by("-finished_at", "-pk"))
    settings = evaluation_comparable(run.config)
    if settings is None:
        return None
    for candidate in candidates[:20]:
        if evaluation_comparable(candidate.config) == settings:
            return candidate
    return None


def _regression_finding(run: EvaluationRun, record: dict[str, Any], requirements: list[Requirement]) -> None:
    previous = previous_evaluation(run)
    if previous is None or not previous.result.get("record"):
        return
    drops = regressions_find(previous.result["record"], record)
    if not drops:
        return
    lines = [f"- {d['what']}: {d['before']:.1%} → {d['after']:.1%} ({d['drop']:+.1%})" for d in drops]
    finding = finding_create(
        organisation=run.organisation, actor=None, source=SOURCE, ai_system=run.ai_system, severity="high",
        title=f"Robustness regression: {run.ai_system.name} {run.model_version.version}",
        description=(f"Evaluation run #{run.pk} dropped beyond the tolerance against run #{previous.pk}:\n"
                     + "\n".join(lines)),
        requirements=requirements, metadata={"run_id": run.pk, "previous_run_id": previous.pk, "drops": drops})
    RobustnessAlert.objects.create(organisation=run.organisation, ai_system=run.ai_system, evaluation=run,
                                   kind=AlertKind.REGRESSION, finding=finding, details={"drops": drops},
                                   summary=f"Regression in evaluation #{run.pk} against #{previous.pk}")


def record_as_dict(record: RobustnessRecord) -> dict[str, Any]:
    return asdict(record)

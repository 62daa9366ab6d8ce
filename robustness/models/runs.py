"""Robustness runs as rows: evaluations (and their shards), anchor analyses, retraining runs.

Every run is a user-visible job on the kernel's row (`governance.models.jobs.LeasedJob`): status,
progress, ETA, message, result, error, plus the lease that lets a second worker take over a run
whose worker died.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from governance.models.jobs import JobStatus, LeasedJob
from governance.models.tenancy import TenantModel

# One status vocabulary for every job (the kernel's); the robustness app's name for it.
RunStatus = JobStatus


class RunTrigger(models.TextChoices):
    REQUEST = "request", "Requested by a person"
    RERUN = "rerun", "Re-run of an earlier run"
    RETRAINING = "retraining", "Re-evaluation after retraining"
    PERIODIC = "periodic", "Periodic re-evaluation"
    DEMO = "demo", "Demo"


def run_folder(kind_slug: str, run_id: int) -> str:
    """Where a run's files live, relative to MEDIA_ROOT: `robustness/<kind>/<id>/` (attempt folders inside)."""
    return f"robustness/{kind_slug}/{run_id}"


class RunJob(LeasedJob):
    """A leased job of this lab (a run or a shard): the kernel's row plus resume state."""

    # Resume state: evaluation partial counts (JSON) or the retraining checkpoint folder.
    checkpoint = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    job_noun = "run"

    class Meta:
        abstract = True

    @classmethod
    def lease_seconds(cls) -> int:
        """How long a claim lasts without a heartbeat (short in kill-and-resume tests)."""
        return int(settings.ROBUSTNESS_LEASE_SECONDS)


class RobustnessRun(TenantModel, RunJob):
    """A run a person (or the platform) asked for, with its frozen configuration."""

    ai_system = models.ForeignKey("governance.AISystem", on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey("governance.ModelVersion", on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices, default=RunTrigger.REQUEST)
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    config = models.JSONField(default=dict, help_text="Frozen at request: what the worker runs.")
    cancel_requested = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)
    provenance = models.JSONField(default=dict, blank=True,
                                  help_text="Library versions, device, seed, SHA-256 of model and data, duration.")
    artifacts = models.JSONField(default=list, blank=True, help_text="[{name, sha256, size, kind}] under the run dir.")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    kind_slug = ""

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("robustness:run-detail", args=[self.kind_slug, self.pk])

    def media_folder(self) -> str:
        """The files this run wrote outside FileFields; export_organisation carries the folder and
        import_organisation re-homes it under the imported row's id."""
        return run_folder(self.kind_slug, self.pk)


class EvaluationRun(RobustnessRun):
    """Clean and adversarial accuracy of one model version on one dataset (config: attacks, ε, n, seed)."""

    dataset = models.ForeignKey("governance.Dataset", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    retraining = models.ForeignKey("robustness.RetrainingRun", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="evaluations")
    evidence_version = models.ForeignKey("assessments.EvidenceVersion", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    shard_count = models.PositiveIntegerField(default=1)

    kind_slug = "evaluations"

    class Meta(RobustnessRun.Meta):
        verbose_name = "evaluation run"


class EvaluationShard(RunJob):
    """One slice of a sharded evaluation (attack × ε keys, batch range) with its own lease."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    keys = models.JSONField(default=list, help_text='[["screen-pgd10", 0.0157], ...]')
    start_batch = models.PositiveIntegerField()
    end_batch = models.PositiveIntegerField()
    partial = models.JSONField(null=True, blank=True, help_text="Merged counts of the finished batches.")

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_shard_index_per_run")]

    def __str__(self) -> str:
        return f"shard {self.index} of evaluation {self.run_id}"

    @property
    def organisation_id(self) -> int:
        return self.run.organisation_id

    @classmethod
    def cancel_requested_for(cls, pk: int) -> bool:
        """A shard stops when its run's cancel was requested."""
        run_id = cls.objects.filter(pk=pk).values_list("run_id", flat=True).first()
        return EvaluationRun.cancel_requested_for(run_id) if run_id is not None else False


class AnchorAnalysis(RobustnessRun):
    """Text-anchor diagnostics of a model version and LAAT's expansion (factor k), before/after."""

    kind_slug = "anchor-analyses"

    class Meta(RobustnessRun.Meta):
        verbose_name = "anchor analysis"
        verbose_name_plural = "anchor analyses"


class RetrainingRun(RobustnessRun):
    """Adversarial fine-tuning of the vision tower; output: a new model version with lineage."""

    training_dataset = models.ForeignKey("governance.Dataset", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")
    output_model_version = models.ForeignKey("governance.ModelVersion", null=True, blank=True,
                                             on_delete=models.SET_NULL, related_name="+")

    kind_slug = "retraining"

    class Meta(RobustnessRun.Meta):
        verbose_name = "retraining run"


class AlertKind(models.TextChoices):
    REGRESSION = "regression", "Robustness regression"
    BELOW_THRESHOLD = "below_threshold", "Below threshold"


class RobustnessAlert(TenantModel):
    """A dashboard alert: a regression against the previous run, or a result below threshold."""

    ai_system = models.ForeignKey("governance.AISystem", on_delete=models.CASCADE, related_name="+")
    evaluation = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    summary = models.CharField(max_length=400)
    details = models.JSONField(default=dict)
    finding = models.ForeignKey("assessments.Finding", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    acknowledged = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.summary

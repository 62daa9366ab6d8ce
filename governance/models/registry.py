"""The AI system registry: systems, their EU AI Act classification, model versions, datasets."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from governance.models.tenancy import MAX_REVIEW_DAYS, TenantModel
from governance.uploads import CHECKPOINT_SUFFIXES


class OperatorRole(models.TextChoices):
    PROVIDER = "provider", "Provider"
    DEPLOYER = "deployer", "Deployer"
    IMPORTER = "importer", "Importer"
    DISTRIBUTOR = "distributor", "Distributor"
    PRODUCT_MANUFACTURER = "product_manufacturer", "Product manufacturer"


def operator_roles_display(roles: list[str]) -> str:
    """The roles in `OperatorRole` order, as their labels ("Provider, Deployer")."""
    labels = dict(OperatorRole.choices)
    return ", ".join(str(labels.get(role, role)) for role in OperatorRole.values if role in roles)


class LifecycleStage(models.TextChoices):
    """ISO/IEC 22989 AI system life-cycle stages."""

    INCEPTION = "inception", "Inception"
    DESIGN_DEVELOPMENT = "design_development", "Design and development"
    VERIFICATION_VALIDATION = "verification_validation", "Verification and validation"
    DEPLOYMENT = "deployment", "Deployment"
    OPERATION_MONITORING = "operation_monitoring", "Operation and monitoring"
    RE_EVALUATION = "re_evaluation", "Continuous validation / re-evaluation"
    RETIREMENT = "retirement", "Retirement"


class HumanOversight(models.TextChoices):
    HUMAN_IN_THE_LOOP = "human_in_the_loop", "Human in the loop (a person decides)"
    HUMAN_ON_THE_LOOP = "human_on_the_loop", "Human on the loop (a person monitors and can intervene)"
    HUMAN_IN_COMMAND = "human_in_command", "Human in command (a person decides when and how to use it)"
    NONE = "none", "No human oversight"


class AISystem(TenantModel):
    name = models.CharField(max_length=200)
    intended_purpose = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    business_owner = models.CharField(max_length=200, blank=True)
    # Several at once (an in-house system is both provider and deployer): `OperatorRole` values, checked by the service.
    operator_roles = models.JSONField(default=list)
    lifecycle_stage = models.CharField(max_length=30, choices=LifecycleStage.choices,
                                       default=LifecycleStage.DESIGN_DEVELOPMENT)
    deployment_context = models.TextField(blank=True)
    affected_persons = models.TextField(blank=True)
    human_oversight = models.CharField(max_length=30, choices=HumanOversight.choices,
                                       default=HumanOversight.HUMAN_IN_THE_LOOP)
    human_oversight_description = models.TextField(blank=True)
    review_frequency_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(MAX_REVIEW_DAYS)],
        help_text="Days between reviews (1 to 3650).")
    last_reviewed = models.DateField(null=True, blank=True)
    # Set in advance (Art 9(8)): [{"attack", "epsilon" (fraction), "min_robust_accuracy", "min_clean_accuracy"?}]
    robustness_thresholds = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="one_ai_system_name_per_org")]
        verbose_name = "AI system"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:ai-system-detail", args=[self.pk])

    @property
    def operator_roles_display(self) -> str:
        return operator_roles_display(self.operator_roles or [])

    @property
    def next_review(self) -> date | None:
        start = self.last_reviewed or (self.created_at.date() if self.created_at else None)
        return start + timedelta(days=self.review_frequency_days) if start else None


class ClassificationResult(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited practice (Art 5)"
    HIGH_RISK_ANNEX_I = "high_risk_annex_i", "High-risk: Annex I product safety (Art 6(1))"
    HIGH_RISK_ANNEX_III = "high_risk_annex_iii", "High-risk: Annex III (Art 6(2))"
    NOT_HIGH_RISK_ART_6_3 = "not_high_risk_art_6_3", "Not high-risk under the Art 6(3) derogation"
    TRANSPARENCY_ONLY = "transparency_only", "Transparency obligations only (Art 50)"
    MINIMAL = "minimal", "Minimal risk"
    INCOMPLETE = "incomplete", "Incomplete: answers missing"

    @classmethod
    def high_risk(cls) -> frozenset[str]:
        return frozenset({cls.HIGH_RISK_ANNEX_I, cls.HIGH_RISK_ANNEX_III})


class EUAIActClassification(TenantModel):
    ai_system = models.OneToOneField(AISystem, on_delete=models.CASCADE, related_name="classification")
    answers = models.JSONField(default=dict)
    result = models.CharField(max_length=30, choices=ClassificationResult.choices)
    rationale = models.TextField()
    annex_iii_points = models.JSONField(default=list, blank=True)
    prohibited_practices = models.JSONField(default=list, blank=True)
    transparency_obligations = models.JSONField(default=list, blank=True)
    general_purpose_model = models.BooleanField(default=False)
    # Chapter V: the organisation provides a general-purpose AI model (Art 53), with systemic risk (Arts 51(2), 55).
    general_purpose_model_provider = models.BooleanField(default=False)
    systemic_risk = models.BooleanField(default=False)
    annex_i_section_b = models.BooleanField(default=False)  # Art 2(2): only Art 6(1), Arts 102-109 and 112 apply
    missing_answers = models.JSONField(default=list, blank=True)  # the questions an incomplete result still needs
    application_date = models.DateField(null=True, blank=True)
    application_date_source = models.TextField(blank=True)
    classified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    classified_at = models.DateTimeField()

    class Meta:
        verbose_name = "EU AI Act classification"

    def __str__(self) -> str:
        return f"{self.ai_system}: {self.get_result_display()}"

    @property
    def is_high_risk(self) -> bool:
        return self.result in ClassificationResult.high_risk()

    @property
    def is_incomplete(self) -> bool:
        return self.result == ClassificationResult.INCOMPLETE


class ValidationStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


def checkpoint_upload_to(instance: ModelVersion, filename: str) -> str:
    """Each organisation's checkpoints live under their own prefix, with a random name (review H-1)."""
    suffix = PurePosixPath(filename).suffix.lower()
    suffix = suffix if suffix in CHECKPOINT_SUFFIXES else ""
    return f"{CHECKPOINT_PREFIX}/{int(instance.organisation_id)}/{uuid.uuid4().hex}{suffix}"


CHECKPOINT_PREFIX = "checkpoints"


class ModelVersion(TenantModel):
    ai_system = models.ForeignKey(AISystem, on_delete=models.CASCADE, related_name="model_versions")
    version = models.CharField(max_length=80)
    architecture = models.CharField(max_length=120, help_text="open_clip architecture name, e.g. ViT-B-32.")
    model_config = models.JSONField(null=True, blank=True, help_text="Custom open_clip config (JSON), if any.")
    checkpoint = models.FileField(upload_to=checkpoint_upload_to, null=True, blank=True, max_length=300)
    checkpoint_filename = models.CharField(max_length=255, blank=True)
    pretrained_tag = models.CharField(max_length=120, blank=True)
    class_names = models.JSONField(default=list)
    prompt_templates = models.JSONField(default=list)
    checkpoint_sha256 = models.CharField(max_length=64, blank=True)
    checkpoint_size = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ValidationStatus.choices, default=ValidationStatus.VALIDATING)
    status_reason = models.TextField(blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ai_system", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["ai_system", "version"], name="one_version_label_per_system")]

    def __str__(self) -> str:
        return f"{self.ai_system.name} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("governance:model-version-detail", args=[self.pk])


class LossTermKind(models.TextChoices):
    ACCURACY = "accuracy", "Accuracy / task performance"
    FAIRNESS = "fairness", "Fairness"
    ROBUSTNESS = "robustness", "Adversarial robustness"
    REGULARISATION = "regularisation", "Regularisation"
    OTHER = "other", "Other"


class TrainingObjectiveCard(TenantModel):
    """The audit questions on the loss function, answered for one model version."""

    model_version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="training_card")
    # [{"name": "cross-entropy", "kind": LossTermKind, "weight": 1.0}]
    loss_terms = models.JSONField(default=list)
    has_adversarial_robustness_term = models.BooleanField(default=False)
    achieves_intended_outcome = models.TextField(blank=True,
                                                 help_text="Does minimising the loss achieve the intended outcome?")
    gaming_risks = models.TextField(blank=True, help_text="How could the objective be gamed?")
    tracks_real_world_metrics = models.TextField(blank=True,
                                                 help_text="Do loss improvements track real-world metrics?")
    edge_case_treatment = models.TextField(blank=True, help_text="How are edge cases treated?")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Training objective of {self.model_version}"


class Dataset(TenantModel):
    name = models.CharField(max_length=200)
    ai_system = models.ForeignKey(AISystem, null=True, blank=True, on_delete=models.SET_NULL, related_name="datasets")
    description = models.TextField(blank=True)
    file = models.FileField(upload_to="datasets/%Y/%m/", null=True, blank=True, max_length=300)
    original_filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    class_names = models.JSONField(default=list)
    image_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=ValidationStatus.choices, default=ValidationStatus.VALIDATING)
    status_reason = models.TextField(blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:dataset-detail", args=[self.pk])

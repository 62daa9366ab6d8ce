"""API serializers: shape and check input, render rows. Writes go through the services."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from governance.eu_ai_act import (
    ANNEX_III_POINTS,
    DEROGATION_CONDITIONS,
    OPERATOR_ROLES,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_OBLIGATIONS,
)
from governance.models import (
    AISystem,
    ApplicabilityDecision,
    AuditEvent,
    Control,
    Crosswalk,
    Dataset,
    EUAIActClassification,
    Framework,
    Membership,
    ModelVersion,
    OperatorRole,
    Requirement,
    Risk,
    Role,
    TrainingObjectiveCard,
)
from governance.selectors import members_of


class TenantScopedMixin:
    """Related-row pick-lists only offer the caller's organisation (no hint that others exist)."""

    scoped_fields: dict[str, Any] = {}

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]  # a mixin of DRF serializers
        access = getattr(self.context.get("request"), "access", None)  # type: ignore[attr-defined]  # the serializer has context
        for name, build in self.scoped_fields.items():
            field = fields.get(name)
            if field is None or access is None:
                continue
            target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            target.queryset = build(access.organisation)
        return fields


class FrameworkSerializer(serializers.ModelSerializer):
    class Meta:
        model = Framework
        fields = ["id", "urn", "slug", "ref_id", "name", "edition", "publisher", "published", "source", "licence",
                  "text_policy", "assessment_scale", "notes", "checksum", "loaded_at"]


class RequirementSerializer(serializers.ModelSerializer):
    framework = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="ref_id", read_only=True, allow_null=True)  # null: top level

    class Meta:
        model = Requirement
        fields = ["id", "framework", "urn", "ref_id", "parent", "kind", "title", "text", "text_status", "assessable",
                  "applies_from", "applies_from_source", "order", "depth"]


class CrosswalkSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="urn", read_only=True)
    target = serializers.SlugRelatedField(slug_field="urn", read_only=True)

    class Meta:
        model = Crosswalk
        fields = ["id", "source", "target", "relationship", "rationale", "provenance", "is_own_mapping",
                  "source_document", "source_publisher", "source_version", "source_url", "source_locator",
                  "reviewer", "citation", "theme"]


class ClassificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = EUAIActClassification
        fields = ["result", "rationale", "missing_answers", "answers", "prohibited_practices", "annex_iii_points",
                  "transparency_obligations", "general_purpose_model", "general_purpose_model_provider",
                  "systemic_risk", "annex_i_section_b", "application_date", "application_date_source",
                  "classified_by", "classified_at"]
        read_only_fields = fields


def _answer_list(choices: Any) -> serializers.MultipleChoiceField:
    return serializers.MultipleChoiceField(choices=list(choices), required=False, allow_null=True)


def _answer_yes_no() -> serializers.BooleanField:
    return serializers.BooleanField(required=False, allow_null=True)


class ClassificationAnswersSerializer(serializers.Serializer):
    """The guided questions (see `governance.eu_ai_act`): the same checks as the web form. A question
    left out (or null) is unanswered, not "no": [] and false are the answers "none" and "no"."""

    operator_roles = _answer_list(OPERATOR_ROLES)
    prohibited_practices = _answer_list(PROHIBITED_PRACTICES)
    annex_i_product = _answer_yes_no()
    annex_i_third_party_assessment = _answer_yes_no()
    annex_i_section_b = _answer_yes_no()
    annex_iii_points = _answer_list(ANNEX_III_POINTS)
    profiling = _answer_yes_no()
    public_service_deployer = _answer_yes_no()
    derogation_conditions = _answer_list(DEROGATION_CONDITIONS)
    derogation_assessment = serializers.CharField(required=False, allow_blank=True, default="")
    transparency_obligations = _answer_list(TRANSPARENCY_OBLIGATIONS)
    general_purpose_model = _answer_yes_no()
    general_purpose_model_provider = _answer_yes_no()
    systemic_risk = _answer_yes_no()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        for key in ("operator_roles", "prohibited_practices", "annex_iii_points", "derogation_conditions",
                    "transparency_obligations"):
            if data.get(key) is not None:
                data[key] = sorted(data[key])
        if data.get("derogation_conditions"):
            if not data.get("annex_iii_points"):
                raise serializers.ValidationError({"derogation_conditions": "Only Annex III systems may claim it."})
            if not data.get("profiling") and not data["derogation_assessment"].strip():
                raise serializers.ValidationError({"derogation_assessment": "Art 6(4): document the assessment."})
        if data.get("annex_i_third_party_assessment") and not data.get("annex_i_product"):
            raise serializers.ValidationError({"annex_i_product": "Third-party assessment only matters for an "
                                                                  "Annex I product."})
        if data.get("systemic_risk") and not data.get("general_purpose_model_provider"):
            raise serializers.ValidationError({"systemic_risk": "Only for a general-purpose AI model the "
                                                                "organisation provides."})
        return data


class AISystemSerializer(TenantScopedMixin, serializers.ModelSerializer):
    scoped_fields = {"owner": members_of}
    classification = ClassificationSerializer(read_only=True, allow_null=True)  # null: not classified yet
    operator_roles = serializers.ListField(child=serializers.ChoiceField(choices=OperatorRole.choices),
                                           allow_empty=False, help_text="One or more: an in-house system is "
                                                                        "provider and deployer.")

    class Meta:
        model = AISystem
        fields = ["id", "name", "intended_purpose", "owner", "business_owner", "operator_roles", "lifecycle_stage",
                  "deployment_context", "affected_persons", "human_oversight", "human_oversight_description",
                  "review_frequency_days", "last_reviewed", "robustness_thresholds", "next_review", "classification",
                  "created_at", "updated_at"]
        read_only_fields = ["next_review", "created_at", "updated_at"]
        validators: list = []  # uniqueness per organisation is the service's check


class TrainingCardSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingObjectiveCard
        fields = ["loss_terms", "has_adversarial_robustness_term", "achieves_intended_outcome", "gaming_risks",
                  "tracks_real_world_metrics", "edge_case_treatment", "updated_by", "updated_at"]
        read_only_fields = ["has_adversarial_robustness_term", "updated_by", "updated_at"]


def _versions_of(organisation: Any) -> Any:
    return ModelVersion.objects.filter(organisation=organisation)


def _systems_of(organisation: Any) -> Any:
    return AISystem.objects.filter(organisation=organisation)


class ModelVersionSerializer(TenantScopedMixin, serializers.ModelSerializer):
    scoped_fields = {"ai_system": _systems_of, "parent": _versions_of}
    checkpoint = serializers.FileField(write_only=True, required=False, allow_null=True)
    class_names = serializers.ListField(child=serializers.CharField())
    prompt_templates = serializers.ListField(child=serializers.CharField())
    model_config = serializers.JSONField(required=False, allow_null=True)
    training_card = TrainingCardSerializer(read_only=True)

    class Meta:
        model = ModelVersion
        fields = ["id", "ai_system", "version", "architecture", "model_config", "checkpoint", "checkpoint_filename",
                  "pretrained_tag", "class_names", "prompt_templates", "checkpoint_sha256", "checkpoint_size",
                  "status", "status_reason", "validated_at", "parent", "created_by", "created_at", "training_card"]
        read_only_fields = ["checkpoint_filename", "checkpoint_sha256", "checkpoint_size", "status", "status_reason",
                            "validated_at", "created_by", "created_at"]
        validators: list = []


class DatasetSerializer(TenantScopedMixin, serializers.ModelSerializer):
    scoped_fields = {"ai_system": _systems_of}
    file = serializers.FileField(write_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "ai_system", "description", "file", "original_filename", "sha256", "size",
                  "class_names", "image_count", "status", "status_reason", "validated_at", "created_by", "created_at"]
        read_only_fields = ["original_filename", "sha256", "size", "class_names", "image_count", "status",
                            "status_reason", "validated_at", "created_by", "created_at"]


class ApplicabilityDecisionSerializer(serializers.ModelSerializer):
    requirement = RequirementSerializer(read_only=True)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = ApplicabilityDecision
        fields = ["id", "ai_system", "requirement", "proposed_applicable", "proposal_justification", "applicable",
                  "justification", "state", "decided_by", "decided_at"]
        read_only_fields = ["ai_system", "proposed_applicable", "proposal_justification", "decided_by", "decided_at"]


class DecisionInputSerializer(serializers.Serializer):
    applicable = serializers.BooleanField()
    justification = serializers.CharField()


class ControlSerializer(TenantScopedMixin, serializers.ModelSerializer):
    scoped_fields = {"owner": members_of}
    requirements = serializers.PrimaryKeyRelatedField(many=True, queryset=Requirement.objects.all(), required=False)

    class Meta:
        model = Control
        fields = ["id", "ref_id", "name", "description", "control_type", "owner", "status", "review_frequency_days",
                  "last_reviewed", "next_review", "requirements", "created_at", "updated_at"]
        read_only_fields = ["next_review", "created_at", "updated_at"]
        validators: list = []


def _controls_of(organisation: Any) -> Any:
    return Control.objects.filter(organisation=organisation)


class RiskSerializer(TenantScopedMixin, serializers.ModelSerializer):
    scoped_fields = {"owner": members_of, "ai_system": _systems_of, "controls": _controls_of}
    controls = serializers.PrimaryKeyRelatedField(many=True, queryset=Control.objects.none(), required=False)

    class Meta:
        model = Risk
        fields = ["id", "ai_system", "title", "description", "risk_source", "characteristic", "likelihood", "impact",
                  "inherent_score", "treatment", "treatment_plan", "residual_likelihood", "residual_impact",
                  "residual_score", "owner", "status", "next_review", "controls", "created_at", "updated_at"]
        read_only_fields = ["inherent_score", "residual_score", "created_at", "updated_at"]


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["created_at"]


class MembershipAddSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["sequence", "actor_label", "action", "object_type", "object_id", "object_repr", "changes",
                  "created_at", "previous_hash", "hash"]


class RiskMatrixSerializer(serializers.Serializer):
    likelihood = serializers.ListField(child=serializers.CharField(), min_length=3, max_length=7)
    impact = serializers.ListField(child=serializers.CharField(), min_length=3, max_length=7)


class ConfirmAllSerializer(serializers.Serializer):
    framework = serializers.SlugRelatedField(slug_field="slug", queryset=Framework.objects.all())
    justification = serializers.CharField()

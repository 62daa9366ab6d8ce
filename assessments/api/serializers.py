"""API serializers: shapes only. Writes go through the services, called by the viewsets."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.models import (
    Action,
    Assessment,
    Engagement,
    Evidence,
    EvidenceAnnotation,
    EvidenceSource,
    EvidenceVersion,
    Finding,
    Phase,
    Report,
    ReportAttestation,
    RequirementResult,
)
from assessments.services.evidence import expired_on_record_warning
from assessments.services.inference import inferred_from_text
from governance.ids import RowIdField


class AssessmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assessment
        fields = ["id", "title", "framework", "ai_system", "model_version", "status", "period_start", "period_end",
                  "scope_notes", "assessors", "reviewers", "soa_snapshot", "snapshot_sha256", "created_at",
                  "approved_by", "approved_at", "locked_by", "locked_at"]
        read_only_fields = ["status", "soa_snapshot", "snapshot_sha256", "created_at", "approved_by", "approved_at",
                            "locked_by", "locked_at"]


class AssessmentUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False)
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    scope_notes = serializers.CharField(required=False, allow_blank=True)


class RequirementResultSerializer(serializers.ModelSerializer):
    requirement_ref_id = serializers.CharField(source="requirement.ref_id", read_only=True)
    result_label = serializers.CharField(
        read_only=True, help_text='The result in the framework\'s words: "Compliant" / "Partially compliant" / '
                                  '"Non-compliant", or for a guidance framework (assessment_scale "guidance", e.g. '
                                  'ISO/IEC 23894) "Addressed" / "Partly addressed" / "Not addressed". `result` keeps '
                                  'the stored value.')
    inferred_via_label = serializers.SerializerMethodField()
    inferred_from_text = serializers.SerializerMethodField(
        help_text='"" for a result a person recorded directly; else where it was inferred from and whether a '
                  'person has confirmed it, e.g. "Inferred from NIST AI RMF MEASURE 2.7 (Non-compliant) via '
                  'crosswalk (intersects); not yet confirmed".')

    class Meta:
        model = RequirementResult
        fields = ["id", "assessment", "requirement", "requirement_ref_id", "applicable",
                  "applicability_justification", "result", "result_label", "rationale", "not_assessed_reason",
                  "controls",
                  "evidence_versions", "is_inferred", "inferred_from", "inferred_via", "inferred_via_label",
                  "inferred_from_text",
                  "inference_confirmed_by", "inference_confirmed_at", "needs_review", "review_reason", "updated_at"]
        read_only_fields = ["assessment", "requirement", "is_inferred", "inferred_from", "inferred_via",
                            "inference_confirmed_by", "inference_confirmed_at", "needs_review", "review_reason",
                            "updated_at"]

    def get_inferred_via_label(self, result: RequirementResult) -> str:
        return str(result.inferred_via) if result.inferred_via_id else ""

    def get_inferred_from_text(self, result: RequirementResult) -> str:
        return inferred_from_text(result)


class ResultUpdateSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=RequirementResult._meta.get_field("result").choices, required=False)
    rationale = serializers.CharField(required=False, allow_blank=True)
    not_assessed_reason = serializers.CharField(
        required=False, allow_blank=True,
        help_text="Why an applicable requirement stays not assessed; the lock refuses unassessed ones without it.")
    applicable = serializers.BooleanField(required=False)
    applicability_justification = serializers.CharField(required=False, allow_blank=True)
    controls = serializers.ListField(child=RowIdField(), required=False)
    evidence_versions = serializers.ListField(child=RowIdField(), required=False)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField(default=True)


class EvidenceVersionSerializer(serializers.ModelSerializer):
    # "" for a file version; declared because DRF drops allow_blank from read-only fields, and the
    # schema then said every version has a uri.
    url = serializers.URLField(read_only=True, allow_blank=True)
    # Said in every answer that carries the version, so an API client cannot miss it.
    warnings = serializers.SerializerMethodField(
        help_text="Why this version is weaker than it looks: e.g. it was already expired when recorded.")

    class Meta:
        model = EvidenceVersion
        fields = ["id", "evidence", "number", "filename", "url", "sha256", "size", "content_type", "source",
                  "metadata", "effective_date", "valid_until", "uploaded_by", "uploaded_at", "warnings"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, version: EvidenceVersion) -> list[str]:
        recorded_on = timezone.localdate(version.uploaded_at)
        return [warning] if (warning := expired_on_record_warning(version.valid_until, recorded_on)) else []


class EvidenceAnnotationSerializer(serializers.ModelSerializer):
    created_by_username = serializers.CharField(source="created_by.username", read_only=True, allow_null=True,
                                                default=None)

    class Meta:
        model = EvidenceAnnotation
        fields = ["id", "evidence", "text", "created_by", "created_by_username", "created_at"]
        read_only_fields = fields


class EvidenceAnnotationCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class EvidenceSerializer(serializers.ModelSerializer):
    current_version = EvidenceVersionSerializer(read_only=True, allow_null=True)  # null: no version uploaded yet
    machine_made = serializers.SerializerMethodField(
        help_text="Made by a robustness run: new versions come only from runs (a hand-made one is refused, 409).")
    annotations = EvidenceAnnotationSerializer(many=True, read_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "title", "kind", "status", "ai_system", "requirements", "current_version", "valid_until",
                  "created_by", "created_at", "machine_made", "annotations"]
        read_only_fields = ["status", "current_version", "valid_until", "created_by", "created_at"]

    def get_machine_made(self, evidence: Evidence) -> bool:
        return any(version.source == EvidenceSource.ROBUSTNESS_RUN for version in evidence.versions.all())


class EvidenceVersionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(required=False)
    url = serializers.URLField(required=False, allow_blank=True)
    effective_date = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    metadata = serializers.JSONField(required=False, help_text="A JSON object (in multipart: its JSON text).")

    def validate_metadata(self, value: Any) -> dict[str, Any]:
        # DRF's JSONField decodes a multipart form's JSON text once (a JSON body arrives decoded);
        # what comes out must be an object: a string stays a string, never decoded a second time.
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError(f"metadata must be a JSON object, not {_json_type(value)}")
        return value


def _json_type(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "an array"}.get(
        type(value), type(value).__name__)


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = ["id", "title", "description", "severity", "status", "source", "ai_system", "assessment",
                  "requirements", "risks", "owner", "due_date", "metadata", "created_at", "closed_at"]
        read_only_fields = ["source", "created_at", "closed_at"]


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "engagement", "order", "title", "description", "start_date", "end_date"]
        read_only_fields = ["engagement", "order"]


class EngagementSerializer(serializers.ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)

    class Meta:
        model = Engagement
        fields = ["id", "title", "description", "lead", "start_date", "end_date", "status", "phases",
                  "baseline_assessments", "closing_assessments", "created_at"]
        read_only_fields = ["lead", "end_date", "status", "created_at"]


class ActionSerializer(serializers.ModelSerializer):
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = ["id", "engagement", "phase", "title", "description", "owner", "due_date", "status", "progress",
                  "findings", "controls", "evidence_versions", "closure_evidence", "is_overdue", "created_at",
                  "closed_at"]
        read_only_fields = ["created_at", "closed_at"]

    def get_is_overdue(self, action: Action) -> bool:
        from django.utils import timezone

        from assessments.models.engagements import OPEN_ACTION_STATUSES

        return bool(action.due_date and action.status in OPEN_ACTION_STATUSES
                    and action.due_date < timezone.localdate())


class ReportAttestationSerializer(serializers.ModelSerializer):
    attested_by_username = serializers.SerializerMethodField()

    class Meta:
        model = ReportAttestation
        fields = ["id", "report", "attested_by", "attested_by_username", "attested_at", "report_sha256", "comment"]
        read_only_fields = fields

    def get_attested_by_username(self, attestation: ReportAttestation) -> str:
        return attestation.attested_by.get_username() if attestation.attested_by else ""


class ReportAttestSerializer(serializers.Serializer):
    report_sha256 = serializers.CharField(max_length=100, help_text="The SHA-256 of the PDF you verified.")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReportSerializer(serializers.ModelSerializer):
    report_id = serializers.CharField(read_only=True)
    attestations = ReportAttestationSerializer(many=True, read_only=True)

    class Meta:
        model = Report
        fields = ["id", "uid", "report_id", "assessment", "version", "is_draft", "status", "progress", "message",
                  "error", "sha256", "size", "pages", "manifest_sha256", "render_seconds", "requested_by",
                  "requested_at", "generated_at", "attestations"]
        read_only_fields = [f for f in fields if f != "assessment"]


class VerifySerializer(serializers.Serializer):
    file = serializers.FileField()


class VerifyResultSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    matched = serializers.BooleanField()
    evidence_versions = EvidenceVersionSerializer(many=True)
    reports = ReportSerializer(many=True)


class AssessmentCreateSerializer(serializers.Serializer):
    framework = RowIdField()
    ai_system = RowIdField(required=False, allow_null=True)
    model_version = RowIdField(required=False, allow_null=True)
    title = serializers.CharField(required=False, allow_blank=True, default="")
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    scope_notes = serializers.CharField(required=False, allow_blank=True, default="")
    assessors = serializers.ListField(child=RowIdField(), required=False, default=list)
    reviewers = serializers.ListField(child=RowIdField(), required=False, default=list)


class EvidenceCreateSerializer(serializers.Serializer):
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Evidence._meta.get_field("kind").choices, default="document")
    ai_system = RowIdField(required=False, allow_null=True)
    requirements = serializers.ListField(child=RowIdField(), required=False, default=list)


class FindingWriteSerializer(serializers.Serializer):
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    severity = serializers.ChoiceField(choices=Finding._meta.get_field("severity").choices, required=False)
    status = serializers.ChoiceField(choices=Finding._meta.get_field("status").choices, required=False)
    ai_system = RowIdField(required=False, allow_null=True)
    assessment = RowIdField(required=False, allow_null=True)
    requirements = serializers.ListField(child=RowIdField(), required=False)
    risks = serializers.ListField(child=RowIdField(), required=False)
    owner = RowIdField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)


class EngagementCreateSerializer(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    start_date = serializers.DateField()


class EngagementUpdateSerializer(serializers.Serializer):
    baseline_assessments = serializers.ListField(child=RowIdField(), required=False)
    closing_assessments = serializers.ListField(child=RowIdField(), required=False)


class PhaseUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)


class ActionWriteSerializer(serializers.Serializer):
    engagement = RowIdField(required=False)
    phase = RowIdField(required=False, allow_null=True)
    title = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = RowIdField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Action._meta.get_field("status").choices, required=False)
    progress = serializers.IntegerField(required=False, min_value=0, max_value=100)
    findings = serializers.ListField(child=RowIdField(), required=False)
    controls = serializers.ListField(child=RowIdField(), required=False)
    evidence_versions = serializers.ListField(child=RowIdField(), required=False)
    closure_evidence = serializers.ListField(child=RowIdField(), required=False)


class ReportCreateSerializer(serializers.Serializer):
    assessment = RowIdField()

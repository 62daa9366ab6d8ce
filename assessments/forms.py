"""Web forms: fields and choices limited to the caller's organisation. No business logic: views call services."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from assessments.models import (
    Action,
    Assessment,
    EvidenceKind,
    EvidenceVersion,
    Finding,
    Phase,
    ResultStatus,
    result_choices,
)
from assessments.models.engagements import ActionStatus
from assessments.models.findings import FindingSeverity, FindingStatus
from assessments.services.evidence import expired_on_record_warning
from governance.forms.fields import choices_limit
from governance.ids import RowsChoiceField
from governance.models import AISystem, AssessmentScale, Control, Framework, ModelVersion, Requirement, Risk
from governance.models.tenancy import Organisation
from governance.web.widgets import DATE


def _members(organisation: Organisation) -> QuerySet[User]:
    return get_user_model().objects.filter(memberships__organisation=organisation).order_by("username")


class OrganisationForm(forms.Form):
    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.limit()

    def limit(self) -> None:
        """Narrow the choice querysets to the organisation."""


class AssessmentForm(OrganisationForm):
    framework = forms.ModelChoiceField(Framework.objects.all())
    ai_system = forms.ModelChoiceField(AISystem.objects.none(), required=False,
                                       help_text="Leave empty to assess the whole organisation.")
    model_version = forms.ModelChoiceField(ModelVersion.objects.none(), required=False)
    title = forms.CharField(required=False, max_length=300)
    period_start = forms.DateField(required=False, widget=DATE)
    period_end = forms.DateField(required=False, widget=DATE)
    scope_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    assessors = RowsChoiceField(get_user_model().objects.none(), required=False)
    reviewers = RowsChoiceField(get_user_model().objects.none(), required=False)

    def limit(self) -> None:
        choices_limit(self, AISystem.objects.filter(organisation=self.organisation), "ai_system")
        choices_limit(self, ModelVersion.objects.filter(organisation=self.organisation), "model_version")
        choices_limit(self, _members(self.organisation), "assessors", "reviewers")


class ResultForm(OrganisationForm):
    result = forms.ChoiceField(choices=ResultStatus.choices)
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    not_assessed_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reason it is not assessed",
        help_text="Needed before the lock for an applicable requirement left “Not assessed”.")
    applicable = forms.BooleanField(required=False)
    applicability_justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    controls = RowsChoiceField(Control.objects.none(), required=False)
    evidence_versions = RowsChoiceField(EvidenceVersion.objects.none(), required=False)

    def __init__(self, *args: Any, assessment_scale: str = AssessmentScale.CONFORMITY, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A guidance framework's results read "Addressed / Partly addressed / Not addressed"; same stored values.
        cast(forms.ChoiceField, self.fields["result"]).choices = result_choices(assessment_scale)

    def limit(self) -> None:
        choices_limit(self, Control.objects.filter(organisation=self.organisation), "controls")
        choices_limit(self, EvidenceVersion.objects.filter(organisation=self.organisation).select_related("evidence"),
                      "evidence_versions")


class EvidenceForm(OrganisationForm):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=EvidenceKind.choices)
    ai_system = forms.ModelChoiceField(AISystem.objects.none(), required=False)
    requirements = RowsChoiceField(Requirement.objects.filter(assessable=True)
                                                  .select_related("framework"), required=False)

    def limit(self) -> None:
        choices_limit(self, AISystem.objects.filter(organisation=self.organisation), "ai_system")


class EvidenceVersionForm(forms.Form):
    file = forms.FileField(required=False)
    url = forms.URLField(required=False, assume_scheme="https", help_text="Or a link, instead of a file.")
    effective_date = forms.DateField(required=False, widget=DATE)
    valid_until = forms.DateField(required=False, widget=DATE)
    record_expired = forms.BooleanField(
        required=False, label="Record as expired (historical evidence)",
        help_text="Needed only when valid-until is already past: the version is then kept as expired evidence.")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("file")) == bool(data.get("url")):
            raise forms.ValidationError("Give a file or a link (one of them).")
        warning = expired_on_record_warning(data.get("valid_until"), timezone.localdate())
        if warning and not data.get("record_expired"):
            self.add_error("valid_until", f"{warning} Tick \u201cRecord as expired\u201d to keep it anyway.")
        return data


class EvidenceAnnotationForm(forms.Form):
    text = forms.CharField(label="Annotation", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
                           help_text="A note kept beside the evidence, with your name and the time; it changes "
                                     "no version.")


class EvidenceWithVersionForm(EvidenceForm, EvidenceVersionForm):
    """Create evidence and its first version in one step."""


class FindingForm(OrganisationForm):
    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    severity = forms.ChoiceField(choices=FindingSeverity.choices, initial=FindingSeverity.MEDIUM)
    status = forms.ChoiceField(choices=FindingStatus.choices, initial=FindingStatus.OPEN)
    ai_system = forms.ModelChoiceField(AISystem.objects.none(), required=False)
    assessment = forms.ModelChoiceField(Assessment.objects.none(), required=False)
    requirements = RowsChoiceField(Requirement.objects.filter(assessable=True), required=False)
    risks = RowsChoiceField(Risk.objects.none(), required=False)
    owner = forms.ModelChoiceField(get_user_model().objects.none(), required=False)
    due_date = forms.DateField(required=False, widget=DATE)

    def limit(self) -> None:
        choices_limit(self, AISystem.objects.filter(organisation=self.organisation), "ai_system")
        choices_limit(self, Assessment.objects.filter(organisation=self.organisation), "assessment")
        choices_limit(self, Risk.objects.filter(organisation=self.organisation), "risks")
        choices_limit(self, _members(self.organisation), "owner")


class EngagementForm(forms.Form):
    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    start_date = forms.DateField(widget=DATE)


class EngagementAssessmentsForm(OrganisationForm):
    baseline = RowsChoiceField(Assessment.objects.none(), required=False,
                                              help_text="One assessment per framework in scope, at the start.")
    closing = RowsChoiceField(Assessment.objects.none(), required=False)

    def limit(self) -> None:
        choices_limit(self, Assessment.objects.filter(organisation=self.organisation).select_related("framework"),
                      "baseline", "closing")


class PhaseForm(forms.ModelForm):
    class Meta:
        model = Phase
        fields = ["title", "description", "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE, "description": forms.Textarea(attrs={"rows": 2})}


class ActionForm(OrganisationForm):
    title = forms.CharField(max_length=300)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    phase = forms.ModelChoiceField(Phase.objects.none(), required=False)
    owner = forms.ModelChoiceField(get_user_model().objects.none(), required=False)
    due_date = forms.DateField(required=False, widget=DATE)
    status = forms.ChoiceField(choices=ActionStatus.choices, initial=ActionStatus.TODO)
    progress = forms.IntegerField(min_value=0, max_value=100, initial=0)
    findings = RowsChoiceField(Finding.objects.none(), required=False)
    controls = RowsChoiceField(Control.objects.none(), required=False)
    evidence_versions = RowsChoiceField(EvidenceVersion.objects.none(), required=False)
    closure_evidence = RowsChoiceField(EvidenceVersion.objects.none(), required=False)

    def __init__(self, *args: Any, engagement_id: int | None = None, **kwargs: Any) -> None:
        self.engagement_id = engagement_id
        super().__init__(*args, **kwargs)

    def limit(self) -> None:
        phases = (Phase.objects.filter(organisation=self.organisation, engagement_id=self.engagement_id)
                  if self.engagement_id is not None else Phase.objects.none())  # every phase has an engagement
        choices_limit(self, phases, "phase")
        choices_limit(self, _members(self.organisation), "owner")
        choices_limit(self, Finding.objects.filter(organisation=self.organisation), "findings")
        choices_limit(self, Control.objects.filter(organisation=self.organisation), "controls")
        versions = EvidenceVersion.objects.filter(organisation=self.organisation).select_related("evidence")
        choices_limit(self, versions, "evidence_versions", "closure_evidence")


def action_initial(action: Action) -> dict:
    return {"title": action.title, "description": action.description, "phase": action.phase_id,
            "owner": action.owner_id, "due_date": action.due_date, "status": action.status,
            "progress": action.progress, "findings": list(action.findings.all()),
            "controls": list(action.controls.all()), "evidence_versions": list(action.evidence_versions.all()),
            "closure_evidence": list(action.closure_evidence.all())}


class ReportAttestationForm(forms.Form):
    report_sha256 = forms.CharField(
        max_length=100, label="SHA-256 of the PDF you verified",
        help_text="The hash of the file you downloaded and read: it must be this report's SHA-256.")
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class VerifyForm(forms.Form):
    file = forms.FileField(help_text="The file is hashed (SHA-256) and discarded: nothing is stored.")

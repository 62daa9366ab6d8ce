"""Evidence pages: list (with the dashboard's drill-down filters), create, detail, new version, download."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from assessments.forms import EvidenceAnnotationForm, EvidenceVersionForm, EvidenceWithVersionForm
from assessments.models import Evidence, EvidenceSource, EvidenceStatus, EvidenceVersion
from assessments.selectors.robustness import robustness_summary_get
from assessments.services import (
    evidence_annotation_add,
    evidence_version_add,
    evidence_with_version_create,
    expired_on_record_warning,
)
from governance.permissions import Permission
from governance.web.downloads import file_download
from governance.web.views import OrganisationView


class EvidenceListView(OrganisationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        evidence = (Evidence.objects.filter(organisation=self.access.organisation)
                    .select_related("current_version", "ai_system"))
        today = timezone.localdate()
        if request.GET.get("expiring"):
            days = int(request.GET["expiring"])  # 0 … MAX_EXPIRING_DAYS, checked by OrganisationView.setup
            evidence = evidence.filter(status=EvidenceStatus.ACTIVE, valid_until__gte=today,
                                       valid_until__lte=today + timedelta(days=days))
        for name, lookup in (("status", "status"), ("kind", "kind"), ("ai_system", "ai_system_id")):
            if request.GET.get(name):
                evidence = evidence.filter(**{lookup: request.GET[name]})
        return render(request, "assessments/evidence_list.html",
                      {"page": self.paginate(evidence.order_by("valid_until", "-id")), "query": self.query_string()})


class EvidenceCreateView(OrganisationView):
    required_actions = {"GET": Permission.EDIT_ASSESSMENTS, "POST": Permission.EDIT_ASSESSMENTS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(EvidenceWithVersionForm(organisation=self.access.organisation))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EvidenceWithVersionForm(request.POST, request.FILES, organisation=self.access.organisation)
        if not form.is_valid():
            return self._render(form)
        data = form.cleaned_data
        try:
            version = evidence_with_version_create(
                organisation=self.access.organisation, title=data["title"], kind=data["kind"], actor=request.user,
                ai_system=data["ai_system"], requirements=data["requirements"], **_version_arguments(data))
        except ValidationError as error:
            form.add_error(None, error)
            return self._render(form)
        _warn_if_expired(request, version)
        return redirect("assessments:evidence-detail", pk=version.evidence_id)

    def _render(self, form: EvidenceWithVersionForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": "New evidence", "multipart": True,
            "cancel_url": reverse("assessments:evidence-list")})


def _version_arguments(data: dict) -> dict:
    """A version form's cleaned data as `evidence_version_add`'s arguments."""
    upload = data.get("file")
    return {"file": upload, "url": data.get("url") or "", "filename": upload.name if upload else "",
            "effective_date": data.get("effective_date"), "valid_until": data.get("valid_until")}


def _warn_if_expired(request: HttpRequest, version: EvidenceVersion) -> None:
    """Say on the next page that a version went in already expired (the form made the person confirm it)."""
    if warning := expired_on_record_warning(version.valid_until, timezone.localdate()):
        messages.warning(request, warning)


class EvidenceDetailView(OrganisationView):
    write_action = Permission.EDIT_ASSESSMENTS  # POST adds a version

    def get(self, request: HttpRequest, pk: int, form: EvidenceVersionForm | None = None,
            annotation_form: EvidenceAnnotationForm | None = None) -> HttpResponse:
        evidence = self.organisation_object(Evidence.objects.select_related("ai_system").prefetch_related(
            "requirements__framework"), pk=pk)
        versions = list(evidence.versions.select_related("uploaded_by", "evidence__ai_system"))
        thresholds = evidence.ai_system.robustness_thresholds if evidence.ai_system else ()
        robustness = [s for s in (robustness_summary_get(v, thresholds=thresholds) for v in versions[:5]) if s]
        return render(request, "assessments/evidence_detail.html", {
            "evidence": evidence, "versions": versions, "form": form or EvidenceVersionForm(),
            "robustness": robustness, "today": timezone.localdate(),
            "machine_made": any(v.source == EvidenceSource.ROBUSTNESS_RUN for v in versions),
            "annotations": evidence.annotations.select_related("created_by"),
            "annotation_form": annotation_form or EvidenceAnnotationForm()})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        evidence = self.organisation_object(Evidence, pk=pk)
        form = EvidenceVersionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                version = evidence_version_add(evidence=evidence, actor=request.user,
                                               **_version_arguments(form.cleaned_data))
                _warn_if_expired(request, version)
                return redirect("assessments:evidence-detail", pk=evidence.pk)
            except ValidationError as error:
                form.add_error(None, error)
        return self.get(request, pk, form=form)


class EvidenceAnnotationCreateView(EvidenceDetailView):
    """POST: a person's annotation beside the evidence (the way to comment on machine evidence)."""

    write_action = Permission.EDIT_ASSESSMENTS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        evidence = self.organisation_object(Evidence, pk=pk)
        form = EvidenceAnnotationForm(request.POST)
        if form.is_valid():
            try:
                evidence_annotation_add(evidence=evidence, text=form.cleaned_data["text"], actor=request.user)
                messages.success(request, "Annotation added.")
                return redirect("assessments:evidence-detail", pk=evidence.pk)
            except ValidationError as error:
                form.add_error(None, error)
        return self.get(request, pk, annotation_form=form)


class EvidenceVersionDownloadView(OrganisationView):
    """Evidence files leave only through here (never a public /media/ URL)."""

    required_actions = {"GET": Permission.DOWNLOAD_REPORTS}

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        version = self.organisation_object(EvidenceVersion, pk=pk)
        if not version.file:
            raise Http404("A link has no file.")
        return file_download(version.file, filename=version.filename, content_type=version.content_type,
                             sha256=version.sha256)

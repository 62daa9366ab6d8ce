"""Robustness pages: request, watch (progress polled as JSON), cancel, re-run, results with charts.

Every view goes through governance's `OrganisationAccessMixin`: reads need `Permission.READ`,
requests/cancel/re-run need `Permission.RUN_ROBUSTNESS`; rows are looked up within the caller's
organisation only, so another organisation's run is a 404.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View

from governance.authz import OrganisationAccessMixin
from governance.models.registry import AISystem
from governance.permissions import Permission
from governance.web.views import ReadView, WriteFormView
from robustness import forms, selectors
from robustness.services import artifacts, run_requests
from robustness.views.results import results_context

ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.(png|json)$")


class RunListView(ReadView):
    """All runs of the organisation, or of one AI system, with open alerts."""

    template_name = "robustness/run_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        system = None
        if "system_pk" in self.kwargs:
            system = get_object_or_404(AISystem, pk=self.kwargs["system_pk"], organisation=self.access.organisation)
        systems = AISystem.objects.filter(organisation=self.access.organisation)
        return {**super().get_context_data(**kwargs), "system": system, "systems": systems,
                "runs": selectors.system_runs(self.access.organisation, system.pk if system else None),
                "can_run": self.access.can(Permission.RUN_ROBUSTNESS)}


class RunRequestView(WriteFormView[forms.RunRequestForm, models.Model]):
    """The request form of one kind of run for one AI system."""

    write_action = Permission.RUN_ROBUSTNESS
    form_classes: dict[str, type[forms.RunRequestForm]] = {"evaluations": forms.EvaluationRequestForm,
                                                           "anchor-analyses": forms.AnchorAnalysisRequestForm,
                                                           "retraining": forms.RetrainingRequestForm}
    titles = {"evaluations": "Request a robustness evaluation", "anchor-analyses": "Request an anchor analysis",
              "retraining": "Request adversarial retraining"}

    def setup_objects(self) -> None:
        self.system = get_object_or_404(AISystem, pk=self.kwargs["system_pk"], organisation=self.access.organisation)
        self.kind = self.kwargs["kind"]
        selectors.run_model_for(self.kind)
        self.form_class = self.form_classes[self.kind]
        self.title = f"{self.titles[self.kind]}: {self.system.name}"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {"ai_system": self.system}

    def cancel_url(self) -> str:
        return reverse("robustness:system-runs", args=[self.kwargs["system_pk"]])

    def perform(self, form: forms.RunRequestForm) -> models.Model:
        data: dict[str, Any] = form.cleaned_data
        common = {"ai_system": self.system, "model_version": data["model_version"], "actor": self.request.user,
                  "config": form.config()}
        if self.kind == "evaluations":
            return run_requests.evaluation_run_request(dataset=data["dataset"], shards=data["shards"], **common)
        if self.kind == "anchor-analyses":
            return run_requests.anchor_analysis_request(**common)
        return run_requests.retraining_run_request(training_dataset=data["training_dataset"], **common)


class RunDetailView(ReadView):
    template_name = "robustness/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run = selectors.run_get(self.access.organisation, self.kwargs["kind"], self.kwargs["pk"])
        return {**super().get_context_data(**kwargs), "run": run, "kind": run.kind_slug,
                "status": selectors.run_status(run), "can_run": self.access.can(Permission.RUN_ROBUSTNESS),
                **results_context(run)}


class RunStatusView(OrganisationAccessMixin, View):
    """JSON for the progress bar (polled by static/js/robustness.js)."""

    def get(self, request: HttpRequest, kind: str, pk: int) -> JsonResponse:
        run = selectors.run_get(self.access.organisation, kind, pk)
        return JsonResponse(selectors.run_status(run))


class _RunActionView(OrganisationAccessMixin, View):
    required_actions = {"POST": Permission.RUN_ROBUSTNESS}
    http_method_names = ["post"]

    def act(self, run: Any) -> Any:
        raise NotImplementedError

    def post(self, request: HttpRequest, kind: str, pk: int) -> HttpResponse:
        run = selectors.run_get(self.access.organisation, kind, pk)
        try:
            target = self.act(run)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            target = run
        return HttpResponseRedirect(target.get_absolute_url())


class RunCancelView(_RunActionView):
    def act(self, run: Any) -> Any:
        row = run_requests.run_cancel(run=run, actor=self.request.user)
        messages.success(self.request, "Cancel requested." if not row.is_finished else "Cancelled.")
        return row


class RunRerunView(_RunActionView):
    def act(self, run: Any) -> Any:
        new = run_requests.run_rerun(run=run, actor=self.request.user)
        messages.success(self.request, f"Re-run requested as #{new.pk} with the same settings.")
        return new


class RunArtifactView(OrganisationAccessMixin, View):
    """A file the run wrote (adversarial examples, record), after the same access check as the run."""

    def get(self, request: HttpRequest, kind: str, pk: int, name: str) -> FileResponse:
        run = selectors.run_get(self.access.organisation, kind, pk)
        if not ARTIFACT_NAME.match(name) or name not in {item["name"] for item in run.artifacts}:
            raise Http404("No such file")
        folder = artifacts.attempt_directory(kind, run.pk, run.attempt)
        path = folder / name
        if not path.is_file() or path.resolve().parent != folder.resolve():
            raise Http404("No such file")
        return FileResponse(path.open("rb"), content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")

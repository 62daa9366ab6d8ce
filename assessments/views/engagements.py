"""Engagement pages: list, open (consultant or admin), detail with timeline and posture, phases, actions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from assessments.forms import ActionForm, EngagementAssessmentsForm, EngagementForm, PhaseForm, action_initial
from assessments.models import Action, Engagement, Phase
from assessments.models.engagements import OPEN_ACTION_STATUSES
from assessments.selectors.engagements import (
    action_is_overdue,
    engagement_posture_get,
    engagement_robustness_get,
    engagement_timeline_svg,
)
from assessments.services import (
    action_create,
    action_update,
    engagement_assessments_set,
    engagement_create,
    phase_update,
)
from governance.permissions import Permission
from governance.web.views import OrganisationView, run_service

EDIT = {"GET": Permission.EDIT_ENGAGEMENTS, "POST": Permission.EDIT_ENGAGEMENTS}


class EngagementListView(OrganisationView):
    def get(self, request: HttpRequest) -> HttpResponse:
        engagements = Engagement.objects.filter(organisation=self.access.organisation).select_related("lead")
        return render(request, "assessments/engagement_list.html", {"page": self.paginate(engagements)})


class EngagementCreateView(OrganisationView):
    required_actions = EDIT

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(EngagementForm(initial={"start_date": timezone.localdate()}))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EngagementForm(request.POST)
        if not form.is_valid():
            return self._render(form)
        engagement = engagement_create(organisation=self.access.organisation, actor=request.user,
                                       **form.cleaned_data)
        return redirect("assessments:engagement-detail", pk=engagement.pk)

    def _render(self, form: EngagementForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": "Open a 90-day engagement", "cancel_url": reverse("assessments:engagement-list"),
            "help": "The plan starts with the method's three phases (days 1–30, 31–60, 61–90); edit them after."})


class EngagementDetailView(OrganisationView):
    write_action = Permission.EDIT_ENGAGEMENTS  # POST sets the baseline and closing assessments

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        engagement = self.organisation_object(Engagement.objects.select_related("lead"), pk=pk)
        today = timezone.localdate()
        actions = list(engagement.actions.select_related("owner", "phase").prefetch_related(
            "findings", "closure_evidence__evidence"))
        overdue = {action.pk for action in actions if action_is_overdue(action, today)}
        for action in actions:
            action.is_overdue = action.pk in overdue  # type: ignore[attr-defined]  # for the template; not a field
        form = EngagementAssessmentsForm(organisation=self.access.organisation, initial={
            "baseline": list(engagement.baseline_assessments.all()),
            "closing": list(engagement.closing_assessments.all())})
        return render(request, "assessments/engagement_detail.html", {
            "engagement": engagement, "phases": engagement.phases.all(), "actions": actions, "today": today,
            "timeline": mark_safe(engagement_timeline_svg(engagement, actions, today)),  # noqa: S308 - escaped SVG
            "posture": engagement_posture_get(engagement), "robustness": engagement_robustness_get(engagement),
            "form": form, "overdue": len(overdue)})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        engagement = self.organisation_object(Engagement, pk=pk)
        form = EngagementAssessmentsForm(request.POST, organisation=self.access.organisation)
        back = reverse("assessments:engagement-detail", args=[engagement.pk])
        if not form.is_valid():
            return redirect(back)
        return run_service(request, lambda: engagement_assessments_set(
            engagement=engagement, actor=request.user, baseline=form.cleaned_data["baseline"],
            closing=form.cleaned_data["closing"]), success="Baseline and closing sets saved.", back=back)


class PhaseEditView(OrganisationView):
    required_actions = EDIT

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        phase = self.organisation_object(Phase.objects.select_related("engagement"), pk=pk)
        return self._render(phase, PhaseForm(instance=phase))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        phase = self.organisation_object(Phase.objects.select_related("engagement"), pk=pk)
        form = PhaseForm(request.POST, instance=Phase.objects.get(pk=phase.pk))
        if form.is_valid():
            try:
                phase_update(phase=phase, actor=request.user, **form.cleaned_data)
                return redirect("assessments:engagement-detail", pk=phase.engagement_id)
            except ValidationError as error:
                form.add_error(None, error)
        return self._render(phase, form)

    def _render(self, phase: Phase, form: PhaseForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": f"Edit phase {phase.order} — {phase.engagement.title}",
            "cancel_url": reverse("assessments:engagement-detail", args=[phase.engagement_id])})


class ActionCreateView(OrganisationView):
    required_actions = EDIT

    def get(self, request: HttpRequest, engagement_pk: int) -> HttpResponse:
        engagement = self.organisation_object(Engagement, pk=engagement_pk)
        return self._render(engagement, ActionForm(organisation=self.access.organisation,
                                                   engagement_id=engagement.pk))

    def post(self, request: HttpRequest, engagement_pk: int) -> HttpResponse:
        engagement = self.organisation_object(Engagement, pk=engagement_pk)
        form = ActionForm(request.POST, organisation=self.access.organisation, engagement_id=engagement.pk)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                action_create(engagement=engagement, actor=request.user, **data)
                return redirect("assessments:engagement-detail", pk=engagement.pk)
            except ValidationError as error:
                form.add_error(None, error)
        return self._render(engagement, form)

    def _render(self, engagement: Engagement, form: ActionForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": f"New action — {engagement.title}",
            "cancel_url": reverse("assessments:engagement-detail", args=[engagement.pk])})


class ActionEditView(OrganisationView):
    required_actions = EDIT

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.organisation_object(Action, pk=pk)
        return self._render(action, ActionForm(organisation=self.access.organisation,
                                               engagement_id=action.engagement_id, initial=action_initial(action)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = self.organisation_object(Action, pk=pk)
        form = ActionForm(request.POST, organisation=self.access.organisation, engagement_id=action.engagement_id)
        if form.is_valid():
            try:
                action_update(action=action, actor=request.user, **form.cleaned_data)
                return redirect("assessments:engagement-detail", pk=action.engagement_id)
            except ValidationError as error:
                form.add_error(None, error)
        return self._render(action, form)

    def _render(self, action: Action, form: ActionForm) -> HttpResponse:
        return render(self.request, "assessments/form.html", {
            "form": form, "title": f"Edit action — {action.title}",
            "cancel_url": reverse("assessments:engagement-detail", args=[action.engagement_id])})


class ActionListView(OrganisationView):
    """All actions; `?overdue=1` is the dashboard's drill-down."""

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        actions = Action.objects.filter(organisation=self.access.organisation).select_related(
            "owner", "engagement", "phase")
        if request.GET.get("overdue") == "1":
            actions = actions.filter(status__in=OPEN_ACTION_STATUSES, due_date__lt=today)
        if request.GET.get("status"):
            actions = actions.filter(status=request.GET["status"])
        page = self.paginate(actions)
        for action in page.object_list:
            action.is_overdue = action_is_overdue(action, today)
        return render(request, "assessments/action_list.html", {"page": page, "query": self.query_string()})

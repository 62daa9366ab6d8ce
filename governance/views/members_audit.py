"""Membership management (organisation admins) and the audit trail (every member)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.urls import reverse

from governance import selectors, services
from governance.forms.management import AuditFilterForm, MembershipAddForm, MembershipRoleForm
from governance.models.tenancy import Membership
from governance.permissions import Permission
from governance.web.views import DeleteView, ReadView, WriteFormView, row_or_404


class MemberListView(ReadView):
    template_name = "governance/member_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "memberships": selectors.memberships_for(self.access)}


class MemberAddView(WriteFormView[MembershipAddForm, Membership]):
    form_class = MembershipAddForm
    write_action = Permission.MANAGE_MEMBERS
    title = "Add a member"

    def cancel_url(self) -> str:
        return reverse("governance:member-list")

    def perform(self, form: MembershipAddForm) -> Membership:
        return services.membership_add(organisation=self.access.organisation, actor=self.request.user,
                                       username=form.cleaned_data["username"], role=form.cleaned_data["role"])

    def success_url(self, row: Membership) -> str:
        return reverse("governance:member-list")


class MemberRoleView(WriteFormView[MembershipRoleForm, Membership]):
    form_class = MembershipRoleForm
    write_action = Permission.MANAGE_MEMBERS
    title = "Change role"
    membership: Membership

    def setup_objects(self) -> None:
        self.membership = row_or_404(selectors.memberships_for(self.access), pk=self.kwargs["pk"])

    def cancel_url(self) -> str:
        return reverse("governance:member-list")

    def initial(self) -> dict[str, Any]:
        return {"role": self.membership.role}

    def subject(self) -> Membership:
        return self.membership

    def perform(self, form: MembershipRoleForm) -> Membership:
        return services.membership_update(membership=self.membership, role=form.cleaned_data["role"],
                                          actor=self.request.user)

    def success_url(self, row: Membership) -> str:
        return reverse("governance:member-list")


class MemberRemoveView(DeleteView[Membership]):
    write_action = Permission.MANAGE_MEMBERS
    next_url = "governance:member-list"

    def get_row(self) -> Membership:
        return row_or_404(selectors.memberships_for(self.access), pk=self.kwargs["pk"])

    def perform(self, row: Membership) -> None:
        services.membership_delete(membership=row, actor=self.request.user)


class AuditTrailView(ReadView):
    template_name = "governance/audit_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = AuditFilterForm(self.request.GET or None, object_types=selectors.audit_object_types_for(self.access))
        filters = {key: value for key, value in (form.cleaned_data.items() if form.is_valid() else []) if value}
        events = selectors.audit_events_for(self.access, **{key: str(value) for key, value in filters.items()})
        page = Paginator(events, 50).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return {**super().get_context_data(**kwargs), "form": form, "page": page, "query": query.urlencode()}

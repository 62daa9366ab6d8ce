"""Every governance page for every caller: the answer, and nothing changed on denial.

Callers (tests/conftest.py): anonymous, a member of another organisation (mallory, Globex's
admin) and Acme's admin, risk officer, consultant and auditor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from governance.models import Membership, Role
from governance.permissions import Permission
from tests.authorisation_oracle import ALLOWED
from tests.conftest import CALLERS
from tests.governance.conftest import image_folder_zip, organisation_state

SYSTEM_FORM = {"name": "Renamed system", "intended_purpose": "Ranks applications.", "operator_roles": ["provider"],
               "lifecycle_stage": "deployment", "human_oversight": "human_on_the_loop", "review_frequency_days": "90",
               "thresholds": "screen-pgd10 4/255 0.4 0.8"}
RISK_FORM = {"title": "Poisoned data", "risk_source": "B.5", "characteristic": "secure_resilient",
             "likelihood": "2", "impact": "5", "treatment": "mitigate", "status": "analysed"}


@dataclass(frozen=True)
class Page:
    name: str
    args: Callable[[SimpleNamespace], list[Any]]
    action: Permission | None  # None: a read page
    data: Callable[[SimpleNamespace], dict[str, Any]] | None = None
    owned: bool = True  # the URL names one of Acme's rows (another organisation gets 404)
    changes: bool = True  # an allowed POST changes Acme's data (re-proposing unchanged proposals does not)


def _none(world: SimpleNamespace) -> list[Any]:
    return []


def _auditor_membership(world: SimpleNamespace) -> list[Any]:
    return [Membership.objects.get(organisation=world.system.organisation, role=Role.AUDITOR).pk]


PAGES = [
    Page("ai-system-list", _none, None, owned=False),
    Page("ai-system-detail", lambda w: [w.system.pk], None),
    Page("model-version-detail", lambda w: [w.version.pk], None),
    Page("dataset-list", _none, None, owned=False),
    Page("dataset-detail", lambda w: [w.dataset.pk], None),
    Page("soa", lambda w: [w.system.pk], None),
    Page("framework-list", _none, None, owned=False),
    Page("framework-detail", lambda w: ["eu-ai-act"], None, owned=False),
    Page("requirement-detail", lambda w: [w.requirement.pk], None, owned=False),
    Page("control-list", _none, None, owned=False),
    Page("control-detail", lambda w: [w.control.pk], None),
    Page("risk-list", _none, None, owned=False),
    Page("risk-detail", lambda w: [w.risk.pk], None),
    Page("member-list", _none, None, owned=False),
    Page("audit-list", _none, None, owned=False),
    Page("ai-system-create", _none, Permission.EDIT_REGISTRY, lambda w: SYSTEM_FORM, owned=False),
    Page("ai-system-edit", lambda w: [w.system.pk], Permission.EDIT_REGISTRY, lambda w: SYSTEM_FORM),
    Page("ai-system-delete", lambda w: [w.system.pk], Permission.EDIT_REGISTRY, lambda w: {}),
    Page("classification-edit", lambda w: [w.system.pk], Permission.EDIT_REGISTRY,
         lambda w: {"transparency_obligations": ["Art 50(1)"]}),
    Page("model-version-create", lambda w: [w.system.pk], Permission.EDIT_REGISTRY, lambda w: {
        "version": "v2", "architecture": "ViT-B-32", "pretrained_tag": "openai", "class_names": "cat\ndog",
        "prompt_templates": "a photo of a {}."}),
    Page("model-version-edit", lambda w: [w.version.pk], Permission.EDIT_REGISTRY, lambda w: {
        "version": "v1b", "class_names": "cat\ndog\nbird", "prompt_templates": "a photo of a {}."}),
    Page("model-version-delete", lambda w: [w.version.pk], Permission.EDIT_REGISTRY, lambda w: {}),
    Page("training-card-edit", lambda w: [w.version.pk], Permission.EDIT_REGISTRY,
         lambda w: {"loss_terms": "ce accuracy 1\ntrades robustness 6"}),
    Page("dataset-create", _none, Permission.EDIT_REGISTRY, lambda w: {"name": "More pets", "file": image_folder_zip()},
         owned=False),
    Page("dataset-delete", lambda w: [w.dataset.pk], Permission.EDIT_REGISTRY, lambda w: {}),
    Page("soa-propose", lambda w: [w.system.pk], Permission.EDIT_CONTROLS, lambda w: {}, changes=False),
    Page("soa-confirm-all", lambda w: [w.system.pk], Permission.EDIT_CONTROLS,
         lambda w: {"framework": w.catalogs.eu.pk, "justification": "Reviewed with legal."}),
    Page("decision-edit", lambda w: [w.decision.pk], Permission.EDIT_CONTROLS,
         lambda w: {"applicable": "no", "justification": "Deployer only."}),
    Page("control-create", _none, Permission.EDIT_CONTROLS, lambda w: {
        "ref_id": "C-2", "name": "Red teaming", "control_type": "technical", "status": "planned",
        "review_frequency_days": "90", "requirements": [w.requirement.pk]}, owned=False),
    Page("control-edit", lambda w: [w.control.pk], Permission.EDIT_CONTROLS, lambda w: {
        "ref_id": "C-1", "name": "Adversarial testing (quarterly)", "control_type": "technical",
        "status": "implemented", "review_frequency_days": "90"}),
    Page("control-delete", lambda w: [w.control.pk], Permission.EDIT_CONTROLS, lambda w: {}),
    Page("risk-create", _none, Permission.EDIT_CONTROLS, lambda w: RISK_FORM, owned=False),
    Page("risk-edit", lambda w: [w.risk.pk], Permission.EDIT_CONTROLS, lambda w: RISK_FORM),
    Page("risk-delete", lambda w: [w.risk.pk], Permission.EDIT_CONTROLS, lambda w: {}),
    Page("risk-matrix-edit", _none, Permission.EDIT_CONTROLS,
         lambda w: {"likelihood": "Low\nMedium\nHigh\nVery high\nCertain", "impact": "1\n2\n3\n4\n5"}, owned=False),
    Page("member-add", _none, Permission.MANAGE_MEMBERS, lambda w: {"username": "newbie", "role": "auditor"},
         owned=False),
    Page("member-role", _auditor_membership, Permission.MANAGE_MEMBERS, lambda w: {"role": "risk_officer"}),
    Page("member-remove", _auditor_membership, Permission.MANAGE_MEMBERS, lambda w: {}),
]
POST_ONLY = {"soa-propose", "soa-confirm-all"}


def _expected(page: Page, caller: str, method: str) -> int:
    if caller == "anonymous":
        return 302
    if method == "GET" and page.name in POST_ONLY:
        return 405  # reading is allowed, the verb is not
    if caller == "other_organisation":
        if page.owned:
            return 404
        role = Role.ORG_ADMIN  # mallory acts in her own organisation, Globex
    else:
        role = Role(caller)
    if page.action is not None and role not in ALLOWED[page.action]:
        return 403
    return 200 if method == "GET" else 302


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_page_answers_each_caller_and_changes_nothing_on_denial(page, caller, world, client_as, acme):
    client = client_as(caller)
    url = reverse(f"governance:{page.name}", args=page.args(world))
    before = organisation_state(acme)

    response = client.get(url)
    assert response.status_code == _expected(page, caller, "GET"), response.content[:500]
    if response.status_code == 302 and caller == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    assert organisation_state(acme) == before

    if page.action is None:
        return
    response = client.post(url, page.data(world))
    expected = _expected(page, caller, "POST")
    assert response.status_code == expected, response.content[:800]
    if expected != 302 or caller in ("anonymous", "other_organisation"):
        assert organisation_state(acme) == before
    elif page.changes:
        assert organisation_state(acme) != before


@pytest.mark.parametrize("page", [page for page in PAGES if page.action is None and not page.owned],
                         ids=lambda page: page.name)
def test_read_pages_never_show_another_organisations_rows(page, world, client_as):
    content = client_as("other_organisation").get(
        reverse(f"governance:{page.name}", args=page.args(world))).content.decode()
    for secret in ("CV screener", "Adversarial testing", "Evasion attacks", "Pets"):
        assert secret not in content

"""Every governance API endpoint for every caller: the answer, and nothing changed on denial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from governance.models import Membership, Role
from governance.permissions import Permission
from tests.authorisation_oracle import ALLOWED
from tests.conftest import CALLERS
from tests.governance.conftest import image_folder_zip, organisation_state

API = "/api/v1"
SYSTEM = {"name": "Chat assistant", "intended_purpose": "Answers customer questions.", "operator_roles": ["deployer"],
          "lifecycle_stage": "deployment", "human_oversight": "human_on_the_loop", "review_frequency_days": 90,
          "robustness_thresholds": [{"attack": "aa-apgd", "epsilon": 0.0156862745, "min_robust_accuracy": 0.3}]}
RISK = {"title": "Prompt leakage", "risk_source": "B.3", "characteristic": "privacy_enhanced", "likelihood": 2,
        "impact": 3, "treatment": "mitigate", "status": "identified"}


@dataclass(frozen=True)
class Call:
    label: str
    method: str
    path: Callable[[SimpleNamespace], str]
    action: Permission | None  # None: a read
    data: Callable[[SimpleNamespace], Any] | None = None
    success: int = 200
    owned: bool = True
    multipart: bool = False
    changes: bool = True


def _auditor(world: SimpleNamespace) -> int:
    return Membership.objects.get(organisation=world.system.organisation, role=Role.AUDITOR).pk


CALLS = [
    Call("ai-systems list", "get", lambda w: "/ai-systems/", None, owned=False),
    Call("ai-systems retrieve", "get", lambda w: f"/ai-systems/{w.system.pk}/", None),
    Call("ai-systems create", "post", lambda w: "/ai-systems/", Permission.EDIT_REGISTRY, lambda w: SYSTEM, 201,
         owned=False),
    Call("ai-systems update", "patch", lambda w: f"/ai-systems/{w.system.pk}/", Permission.EDIT_REGISTRY,
         lambda w: {"lifecycle_stage": "deployment"}),
    Call("ai-systems delete", "delete", lambda w: f"/ai-systems/{w.system.pk}/", Permission.EDIT_REGISTRY, success=204),
    Call("classification get", "get", lambda w: f"/ai-systems/{w.system.pk}/classification/", None),
    Call("classification put", "put", lambda w: f"/ai-systems/{w.system.pk}/classification/", Permission.EDIT_REGISTRY,
         lambda w: {"transparency_obligations": ["Art 50(1)"]}),
    Call("propose applicability", "post", lambda w: f"/ai-systems/{w.system.pk}/propose-applicability/",
         Permission.EDIT_CONTROLS, lambda w: {}, changes=False),
    Call("confirm applicability", "post", lambda w: f"/ai-systems/{w.system.pk}/confirm-applicability/",
         Permission.EDIT_CONTROLS, lambda w: {"framework": "eu-ai-act", "justification": "Reviewed with counsel."}),
    Call("model-versions list", "get", lambda w: "/model-versions/", None, owned=False),
    Call("model-versions retrieve", "get", lambda w: f"/model-versions/{w.version.pk}/", None),
    Call("model-versions create", "post", lambda w: "/model-versions/", Permission.EDIT_REGISTRY, lambda w: {
        "ai_system": w.system.pk, "version": "v2", "architecture": "ViT-B-32", "pretrained_tag": "openai",
        "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]}, 201, owned=False),
    Call("model-versions update", "patch", lambda w: f"/model-versions/{w.version.pk}/", Permission.EDIT_REGISTRY,
         lambda w: {"class_names": ["cat", "dog", "bird"]}),
    Call("model-versions delete", "delete", lambda w: f"/model-versions/{w.version.pk}/", Permission.EDIT_REGISTRY,
         success=204),
    Call("training card get", "get", lambda w: f"/model-versions/{w.version.pk}/training-card/", None),
    Call("training card put", "put", lambda w: f"/model-versions/{w.version.pk}/training-card/",
         Permission.EDIT_REGISTRY, lambda w: {"loss_terms": [{"name": "trades", "kind": "robustness", "weight": 6}]}),
    Call("datasets list", "get", lambda w: "/datasets/", None, owned=False),
    Call("datasets retrieve", "get", lambda w: f"/datasets/{w.dataset.pk}/", None),
    Call("datasets create", "post", lambda w: "/datasets/", Permission.EDIT_REGISTRY,
         lambda w: {"name": "More pets", "file": image_folder_zip()}, 201, owned=False, multipart=True),
    Call("datasets delete", "delete", lambda w: f"/datasets/{w.dataset.pk}/", Permission.EDIT_REGISTRY, success=204),
    Call("frameworks list", "get", lambda w: "/frameworks/", None, owned=False),
    Call("frameworks retrieve", "get", lambda w: f"/frameworks/{w.catalogs.eu.pk}/", None, owned=False),
    Call("requirements list", "get", lambda w: "/requirements/?framework=eu-ai-act", None, owned=False),
    Call("requirements retrieve", "get", lambda w: f"/requirements/{w.requirement.pk}/", None, owned=False),
    Call("crosswalks list", "get", lambda w: f"/crosswalks/?requirement={w.requirement.pk}", None, owned=False),
    Call("applicability list", "get", lambda w: f"/applicability-decisions/?ai_system={w.system.pk}", None,
         owned=False),
    Call("applicability retrieve", "get", lambda w: f"/applicability-decisions/{w.decision.pk}/", None),
    Call("applicability decide", "post", lambda w: f"/applicability-decisions/{w.decision.pk}/decide/",
         Permission.EDIT_CONTROLS, lambda w: {"applicable": False, "justification": "Deployer only."}),
    Call("controls list", "get", lambda w: "/controls/", None, owned=False),
    Call("controls retrieve", "get", lambda w: f"/controls/{w.control.pk}/", None),
    Call("controls create", "post", lambda w: "/controls/", Permission.EDIT_CONTROLS, lambda w: {
        "ref_id": "C-9", "name": "Red teaming", "control_type": "technical", "status": "planned",
        "review_frequency_days": 30, "requirements": [w.requirement.pk]}, 201, owned=False),
    Call("controls update", "patch", lambda w: f"/controls/{w.control.pk}/", Permission.EDIT_CONTROLS,
         lambda w: {"status": "operating"}),
    Call("controls delete", "delete", lambda w: f"/controls/{w.control.pk}/", Permission.EDIT_CONTROLS, success=204),
    Call("risks list", "get", lambda w: "/risks/", None, owned=False),
    Call("risks heat map", "get", lambda w: "/risks/heat-map/", None, owned=False),
    Call("risk matrix get", "get", lambda w: "/risks/matrix/", None, owned=False),
    Call("risk matrix put", "put", lambda w: "/risks/matrix/", Permission.EDIT_CONTROLS, lambda w: {
        "likelihood": ["Rare", "Unlikely", "Possible", "Likely", "Certain"],
        "impact": ["Tiny", "Minor", "Moderate", "Major", "Severe"]}, owned=False),
    Call("risks retrieve", "get", lambda w: f"/risks/{w.risk.pk}/", None),
    Call("risks create", "post", lambda w: "/risks/", Permission.EDIT_CONTROLS, lambda w: RISK, 201, owned=False),
    Call("risks update", "patch", lambda w: f"/risks/{w.risk.pk}/", Permission.EDIT_CONTROLS,
         lambda w: {"residual_likelihood": 1, "residual_impact": 2}),
    Call("risks delete", "delete", lambda w: f"/risks/{w.risk.pk}/", Permission.EDIT_CONTROLS, success=204),
    Call("memberships list", "get", lambda w: "/memberships/", None, owned=False),
    Call("memberships create", "post", lambda w: "/memberships/", Permission.MANAGE_MEMBERS,
         lambda w: {"username": "newbie", "role": "auditor"}, 201, owned=False),
    Call("memberships update", "patch", lambda w: f"/memberships/{_auditor(w)}/", Permission.MANAGE_MEMBERS,
         lambda w: {"role": "consultant"}),
    Call("memberships delete", "delete", lambda w: f"/memberships/{_auditor(w)}/", Permission.MANAGE_MEMBERS,
         success=204),
    Call("audit events list", "get", lambda w: "/audit-events/?object_type=governance.AISystem", None, owned=False),
    Call("audit events retrieve", "get", lambda w: "/audit-events/1/", None),
]


def _expected(call: Call, caller: str) -> set[int]:
    if caller == "anonymous":
        return {401, 403}
    if caller == "other_organisation":
        if call.owned:
            return {404}
        role = Role.ORG_ADMIN
    else:
        role = Role(caller)
    if call.action is not None and role not in ALLOWED[call.action]:
        return {403}
    if caller == "other_organisation" and call.method == "post":
        return {call.success, 400}  # acts in Globex; Acme's rows are not offered there
    return {call.success}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.label)
def test_endpoint_answers_each_caller_and_changes_nothing_on_denial(call, caller, world, client_as, acme):
    client = client_as(caller)
    before = organisation_state(acme)
    path = API + call.path(world)
    kwargs: dict[str, Any] = {}
    if call.data is not None:
        kwargs = {"data": call.data(world)} if call.multipart else {"data": call.data(world),
                                                                    "content_type": "application/json"}
    response = getattr(client, call.method)(path, **kwargs)
    assert response.status_code in _expected(call, caller), response.content[:800]
    denied = response.status_code >= 400 or caller == "other_organisation" or call.action is None
    if denied or not call.changes:
        assert organisation_state(acme) == before
    else:
        assert organisation_state(acme) != before


def test_api_lists_are_scoped_to_the_callers_organisation(world, client_as):
    for path in ("/ai-systems/", "/model-versions/", "/datasets/", "/controls/", "/risks/", "/audit-events/"):
        body = client_as("other_organisation").get(API + path).json()
        assert all("CV screener" not in str(row) for row in body["results"]), path


def test_x_organisation_header_switches_the_consultants_organisation(world, client_as):
    carol = client_as(Role.CONSULTANT.value)
    acme_names = [row["name"] for row in carol.get(API + "/ai-systems/").json()["results"]]
    globex_names = [row["name"] for row in
                    carol.get(API + "/ai-systems/", HTTP_X_ORGANISATION="globex").json()["results"]]
    assert acme_names == ["CV screener"] and globex_names == []
    assert carol.get(API + "/ai-systems/", HTTP_X_ORGANISATION="initech").status_code == 404


def test_openapi_schema_documents_the_governance_endpoints(client_as, world):
    schema = client_as(Role.AUDITOR.value).get("/api/schema/?format=json").json()
    for path in ("/api/v1/ai-systems/", "/api/v1/ai-systems/{id}/classification/", "/api/v1/model-versions/",
                 "/api/v1/model-versions/{id}/training-card/", "/api/v1/datasets/", "/api/v1/frameworks/",
                 "/api/v1/requirements/", "/api/v1/crosswalks/", "/api/v1/applicability-decisions/{id}/decide/",
                 "/api/v1/controls/", "/api/v1/risks/", "/api/v1/risks/heat-map/", "/api/v1/memberships/",
                 "/api/v1/audit-events/"):
        assert path in schema["paths"], path

"""The authorisation matrix for every robustness page and API endpoint.

Anonymous: login redirect (pages) or 403 (API). A member of another organisation: 404, never a
hint that the run exists. Auditor: reads yes, writes 403. Editors: both. On every denial,
nothing changed: no run, no audit event.
"""

from __future__ import annotations

import pytest

from governance.models.audit import AuditEvent
from governance.models.tenancy import Role
from robustness.models import AnchorAnalysis, EvaluationRun, RetrainingRun, RunStatus
from robustness.services.run_requests import anchor_analysis_request, evaluation_run_request, retraining_run_request
from tests.conftest import CALLERS
from tests.robustness.runs.conftest import QUICK_EVALUATION

pytestmark = pytest.mark.django_db

EDITORS = {Role.ORG_ADMIN.value, Role.RISK_OFFICER.value, Role.CONSULTANT.value}
KINDS = {"evaluations": (EvaluationRun, "evaluations"), "anchor-analyses": (AnchorAnalysis, "anchor-analyses"),
         "retraining": (RetrainingRun, "retraining-runs")}


@pytest.fixture
def runs(system, version) -> dict[str, object]:
    return {
        "evaluations": evaluation_run_request(ai_system=system, model_version=version, actor=None,
                                              config=QUICK_EVALUATION),
        "anchor-analyses": anchor_analysis_request(ai_system=system, model_version=version, actor=None, config={}),
        "retraining": retraining_run_request(ai_system=system, model_version=version, actor=None,
                                             config={"builtin_dataset": "synthetic-train", "steps": 2}),
    }


def _state() -> tuple:
    return (sum(model.objects.count() for model, _ in KINDS.values()), AuditEvent.objects.count(),
            tuple(EvaluationRun.objects.values_list("status", "cancel_requested")))


def _expect_read(caller: str, answer, *, api: bool = False, listing: bool = False) -> None:
    if caller == "anonymous":
        assert answer.status_code == (403 if api else 302), answer.status_code
        if not api:
            assert "/accounts/login/" in answer["Location"]
    elif caller == "other_organisation" and not listing:
        assert answer.status_code == 404
    else:
        assert answer.status_code == 200, (caller, answer.status_code)


def _expect_write(caller: str, answer, before: tuple, *, api: bool, success: int) -> None:
    if caller in EDITORS:
        assert answer.status_code == success, (caller, answer.status_code, getattr(answer, "content", b"")[:300])
        return
    expected = {"anonymous": 403 if api else 302, "other_organisation": 404, "auditor": 403}[caller]
    assert answer.status_code == expected, (caller, answer.status_code)
    assert _state() == before, "nothing changed on denial"


@pytest.mark.parametrize("caller", CALLERS)
def test_run_pages_and_status_json(client_as, caller, runs, system):
    client = client_as(caller)
    _expect_read(caller, client.get("/robustness/"), listing=True)
    _expect_read(caller, client.get(f"/robustness/systems/{system.pk}/"))
    for kind, run in runs.items():
        _expect_read(caller, client.get(f"/robustness/{kind}/{run.pk}/"))
        status = client.get(f"/robustness/{kind}/{run.pk}/status/")
        _expect_read(caller, status)
        if status.status_code == 200:
            assert status.json()["status"] == RunStatus.PENDING


@pytest.mark.parametrize("caller", CALLERS)
def test_other_organisations_see_none_of_acmes_runs_in_lists(client_as, caller, runs):
    answer = client_as(caller).get("/api/v1/robustness/evaluations/")
    _expect_read(caller, answer, api=True, listing=True)
    if answer.status_code == 200:
        expected = 0 if caller == "other_organisation" else 1
        assert answer.json()["count"] == expected
        page = client_as(caller).get("/robustness/")
        assert (f"/robustness/evaluations/{runs['evaluations'].pk}/".encode() in page.content) == bool(expected)


@pytest.mark.parametrize("caller", CALLERS)
def test_request_forms(client_as, caller, system, version):
    client = client_as(caller)
    for kind in KINDS:
        url = f"/robustness/systems/{system.pk}/{kind}/new/"
        before = _state()
        shown = client.get(url)
        _expect_write(caller, shown, before, api=False, success=200)
        post = {"model_version": version.pk, "builtin_dataset": "synthetic-held-out", "attacks": ["screen-pgd10"],
                "epsilons": "1/255", "n_examples": 8, "batch_size": 8, "seed": 0, "shards": 1, "method": "tecoa",
                "steps": 2, "eps": "4/255", "lr": 0.001, "checkpoint_every": 1, "train_class_names": "a\nb"}
        if kind == "retraining":
            post["builtin_dataset"] = "synthetic-train"
        before = _state()
        answer = client.post(url, post)
        _expect_write(caller, answer, before, api=False, success=302)


@pytest.mark.parametrize("caller", CALLERS)
def test_cancel_and_rerun_pages(client_as, caller, runs):
    client = client_as(caller)
    for kind, run in runs.items():
        before = _state()
        _expect_write(caller, client.post(f"/robustness/{kind}/{run.pk}/rerun/"), before, api=False, success=302)
        before = _state()
        _expect_write(caller, client.post(f"/robustness/{kind}/{run.pk}/cancel/"), before, api=False, success=302)
    if caller in EDITORS:
        assert EvaluationRun.objects.get(pk=runs["evaluations"].pk).status == RunStatus.CANCELLED


@pytest.mark.parametrize("caller", CALLERS)
def test_api_endpoints(client_as, caller, runs, version):
    client = client_as(caller)
    for kind, (_, prefix) in KINDS.items():
        run = runs[kind]
        base = f"/api/v1/robustness/{prefix}/"
        _expect_read(caller, client.get(base), api=True, listing=True)
        _expect_read(caller, client.get(f"{base}{run.pk}/"), api=True)
        config = QUICK_EVALUATION if kind == "evaluations" else {"builtin_dataset": "synthetic-train", "steps": 2}
        before = _state()
        created = client.post(base, {"model_version": version.pk, "config": config}, content_type="application/json")
        _expect_write(caller, created, before, api=True, success=201)
        before = _state()
        _expect_write(caller, client.post(f"{base}{run.pk}/rerun/"), before, api=True, success=201)
        before = _state()
        _expect_write(caller, client.post(f"{base}{run.pk}/cancel/"), before, api=True, success=200)


@pytest.mark.parametrize("caller", CALLERS)
def test_run_files_are_served_only_to_members(client_as, caller, runs):
    run = runs["evaluations"]
    run.artifacts = [{"name": "record.json", "sha256": "", "size": 2}]
    run.save(update_fields=["artifacts"])
    from robustness.services.artifacts import attempt_directory

    folder = attempt_directory("evaluations", run.pk, run.attempt)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "record.json").write_text("{}")
    client = client_as(caller)
    _expect_read(caller, client.get(f"/robustness/evaluations/{run.pk}/files/record.json"))
    if caller not in ("anonymous", "other_organisation"):
        assert client.get(f"/robustness/evaluations/{run.pk}/files/secret.json").status_code == 404
        assert client.get(f"/robustness/evaluations/{run.pk}/files/..%2F..%2Fsecret_key").status_code == 404


HOSTILE_CONFIGS = [
    ("evaluations", {"n_examples": "many"}),
    ("evaluations", {"epsilons": "4/255"}),
    ("evaluations", {"epsilons": [float("nan")]}), ("evaluations", {"attacks": "screen-pgd10"}),
    ("evaluations", {"attacks": ["rm -rf"]}), ("evaluations", {"device": "cuda; reboot"}),
    ("evaluations", {"batch_size": 10**30}), ("evaluations", []),
    ("retraining-runs", {"steps": -1}), ("retraining-runs", {"lr": "fast"}), ("retraining-runs", {"evaluation": [1]}),
    ("retraining-runs", {"method": "magic"}), ("anchor-analyses", {"train_class_names": "ab"}),
    ("anchor-analyses", {"top_k": {"x": 1}}),
]


@pytest.mark.parametrize(("prefix", "config"), HOSTILE_CONFIGS)
def test_unreadable_settings_are_a_400_and_change_nothing(client_as, version, prefix, config):
    before = _state()
    answer = client_as("risk_officer").post(f"/api/v1/robustness/{prefix}/", {"model_version": version.pk,
                                            "config": config}, content_type="application/json")
    assert answer.status_code == 400, (answer.status_code, answer.content[:300])
    assert _state() == before


def test_the_retraining_form_freezes_a_preset_with_the_values_set_by_hand(client_as, system, version):
    from robustness.models import RetrainingRun

    client = client_as("risk_officer")
    url = f"/robustness/systems/{system.pk}/retraining/new/"
    page = client.get(url).content.decode()
    assert "alignment-ce-laat: Alignment CE as LAAT" in page and "demo-fast: The demo&#x27;s fast setting" in page
    answer = client.post(url, {"model_version": version.pk, "builtin_dataset": "synthetic-train",
                               "preset": "fare-paper", "steps": 40, "warmup_steps": 4, "attack_step_size": "2/255"})
    assert answer.status_code == 302
    frozen = RetrainingRun.objects.get(ai_system=system).config
    assert (frozen["preset"], frozen["method"], frozen["optimizer"], frozen["lr"], frozen["attack_steps"]) == \
        ("fare-paper", "fare", "adamw", 1e-5, 10)
    assert (frozen["steps"], frozen["warmup_steps"]) == (40, 4) and frozen["attack_step_size"] == 2 / 255
    before = RetrainingRun.objects.count()
    refused = client.post(url, {"model_version": version.pk, "builtin_dataset": "synthetic-train",
                                "preset": "tecoa-paper", "steps": 10})
    assert refused.status_code == 400
    assert "warmup_steps must be in [0, steps]" in refused.content.decode()
    assert RetrainingRun.objects.count() == before

"""Hostile files through every upload door: datasets and checkpoints (web form and API), evidence, verify.

Each crafted file (tests/hostile/payloads.py) gets either a clear 4xx at upload, with its reason,
or — where only the worker can tell (decoding every image, loading the checkpoint) — is accepted
as "validating" and then marked invalid by the worker's validation, with its reason. On refusal
nothing is half-written: no new row, no new file under MEDIA_ROOT. A pickle payload never runs.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tests.hostile import payloads
from tests.hostile.payloads import Payload
from tests.security.harness import Matrix, state

pytestmark = pytest.mark.django_db
MARKER = Path(tempfile.gettempdir()) / "anchorage-pickle-marker"
REFUSED = {400, 413, 415, 422}
TRIED: list[str] = []
OUTCOMES: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def _no_marker() -> Iterator[None]:
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a pickle payload was executed"
    out = settings.TEST_OUTPUT_DIR / "hostile-uploads.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"payloads_submitted": len(TRIED), "submissions": TRIED, "outcomes": OUTCOMES},
                              indent=1))


def _upload(payload: Payload) -> SimpleUploadedFile:
    return SimpleUploadedFile(payload.name, payload.content, content_type="application/octet-stream")


def _submit(matrix: Matrix, path: str, data: dict[str, Any], *, api: bool) -> tuple[Any, Any, Any, list[Any]]:
    """POST in a savepoint, run the validations the upload queued, roll everything back."""
    from django.db import connection

    TRIED.append(f"{path} {next((v.name for v in data.values() if hasattr(v, 'name')), '')}")
    before = state()
    client = matrix.client("risk_officer", organisation_header="acme" if api else None)
    with transaction.atomic():
        with _captured_on_commit(connection):
            response = client.post(path, data)
        verdicts = [_validate(row_kind, row_id) for row_kind, row_id in _new_rows()]
        after = state()
        transaction.set_rollback(True)
    return response, before, after, verdicts


class _captured_on_commit:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def __enter__(self) -> list[Any]:
        self.start = len(self.connection.run_on_commit)
        return self.connection.run_on_commit

    def __exit__(self, *exc: object) -> None:
        del self.connection.run_on_commit[self.start:]  # never send the validation tasks to a broker


def _new_rows() -> list[tuple[str, int]]:
    from governance.models import Dataset, ModelVersion

    rows = [("dataset", pk) for pk in Dataset.objects.filter(status="validating").values_list("pk", flat=True)]
    return rows + [("model_version", pk) for pk in
                   ModelVersion.objects.filter(status="validating").values_list("pk", flat=True)]


def _validate(kind: str, row_id: int) -> tuple[str, str]:
    """What the worker's validation task decides about an accepted upload (run here, in-process)."""
    from governance.models import Dataset, ModelVersion
    from robustness.tasks import dataset_validate, model_version_validate

    if kind == "dataset":
        dataset_validate(row_id)
        row = Dataset.objects.get(pk=row_id)
    else:
        model_version_validate(row_id)
        row = ModelVersion.objects.get(pk=row_id)
    return row.status, row.status_reason


def _assert_refused_or_invalid(payload: Payload, response: Any, before: Any, after: Any,
                               verdicts: list[tuple[str, str]]) -> None:
    what = f"{payload.attack} ({payload.name})"
    OUTCOMES.append({"attack": payload.attack, "status": response.status_code,
                     "reason": _reason(response)[-300:] if response.status_code in REFUSED else verdicts})
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.status_code in REFUSED:
        assert after == before, f"{what}: refused, yet rows or files were written"
        assert _reason(response), f"{what}: refused without a reason"
        return
    assert response.status_code in {201, 302}, f"{what}: {response.status_code}"
    assert verdicts, f"{what}: accepted, but nothing was queued for validation"
    for status, reason in verdicts:
        assert status == "invalid" and reason, f"{what}: accepted and validated as {status!r} ({reason})"


def _reason(response: Any) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json())
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(errors="replace"), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", error).strip() for error in errors)


DATASETS = payloads.dataset_payloads()


@pytest.mark.parametrize("payload", DATASETS, ids=lambda p: p.name)
def test_a_hostile_dataset_through_the_web_form_is_refused_or_fails_validation(matrix: Matrix, payload: Payload):
    response, before, after, verdicts = _submit(matrix, "/datasets/new/", {"name": "hostile", "file": _upload(payload)},
                                                api=False)
    _assert_refused_or_invalid(payload, response, before, after, verdicts)


@pytest.mark.parametrize("payload", DATASETS, ids=lambda p: p.name)
def test_a_hostile_dataset_through_the_api_is_refused_or_fails_validation(matrix: Matrix, payload: Payload):
    response, before, after, verdicts = _submit(matrix, "/api/v1/datasets/", {"name": "hostile",
                                                                              "file": _upload(payload)}, api=True)
    _assert_refused_or_invalid(payload, response, before, after, verdicts)


CHECKPOINTS = payloads.checkpoint_payloads(MARKER)


def _model_version_form(payload: Payload) -> dict[str, Any]:
    return {"version": f"hostile-{payload.name}", "architecture": "ViT-B-32", "class_names": "cat\ndog",
            "prompt_templates": "a photo of a {}.", "checkpoint": _upload(payload)}


@pytest.mark.parametrize("payload", CHECKPOINTS, ids=lambda p: p.name)
def test_a_hostile_checkpoint_through_the_web_form_never_runs_and_is_refused(matrix: Matrix, payload: Payload):
    path = f"/ai-systems/{matrix.acme.pk('system')}/versions/new/"
    response, before, after, verdicts = _submit(matrix, path, _model_version_form(payload), api=False)
    _assert_refused_or_invalid(payload, response, before, after, verdicts)
    assert not MARKER.exists(), f"{payload.attack}: the pickle ran"


@pytest.mark.parametrize("payload", CHECKPOINTS, ids=lambda p: p.name)
def test_a_hostile_checkpoint_through_the_api_never_runs_and_is_refused(matrix: Matrix, payload: Payload):
    data = {**_model_version_form(payload), "ai_system": matrix.acme.pk("system"),
            "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]}
    response, before, after, verdicts = _submit(matrix, "/api/v1/model-versions/", data, api=True)
    _assert_refused_or_invalid(payload, response, before, after, verdicts)
    assert not MARKER.exists(), f"{payload.attack}: the pickle ran"


EVERYTHING = [*DATASETS[:3], *payloads.image_payloads()[:1], *CHECKPOINTS[:2],
              Payload("../../evil.txt", b"escape", "a path in the file name")]


@pytest.mark.parametrize("payload", EVERYTHING, ids=lambda p: p.name)
def test_verifying_a_hostile_file_stores_nothing(matrix: Matrix, payload: Payload):
    for path, api in (("/verify/", False), ("/api/v1/verify/", True)):
        response, before, after, _ = _submit(matrix, path, {"file": _upload(payload)}, api=api)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        assert after == before, f"{path}: verifying {payload.attack} stored something"
    assert not MARKER.exists()


@pytest.mark.parametrize("payload", EVERYTHING, ids=lambda p: p.name)
def test_hostile_evidence_is_stored_inert_inside_media_root(matrix: Matrix, payload: Payload):
    """Evidence may be any document, so it is kept as bytes: inside MEDIA_ROOT, never unpacked or loaded."""
    from assessments.models import EvidenceVersion

    client = matrix.client("risk_officer")
    with transaction.atomic():
        response = client.post("/evidence/new/", {"title": "hostile", "kind": "document", "file": _upload(payload)})
        stored = [Path(version.file.path) for version in EvidenceVersion.objects.filter(
            evidence__title="hostile") if version.file]
        transaction.set_rollback(True)
    TRIED.append(f"/evidence/new/ {payload.name}")
    assert response.status_code < 500, response.status_code
    media = Path(settings.MEDIA_ROOT).resolve()
    for path in stored:
        assert path.resolve().is_relative_to(media), f"{payload.attack}: stored outside MEDIA_ROOT at {path}"
        path.unlink(missing_ok=True)
    assert not MARKER.exists()


def test_engine_refuses_a_pickle_checkpoint_without_running_it(tmp_path: Path):
    from robustness.engine.checkpoints import load_state_dict_file
    from robustness.engine.errors import EngineError

    for payload in payloads.checkpoint_payloads(MARKER)[:2]:
        path = tmp_path / payload.name
        path.write_bytes(payload.content)
        with pytest.raises(EngineError):
            load_state_dict_file(path)
        assert not MARKER.exists(), f"{payload.attack}: the pickle ran"

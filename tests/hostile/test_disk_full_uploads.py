"""A full disk under the web process: every upload door answers 507 with its reason and saves nothing.

The disk fills (ENOSPC) after the first 100 bytes of the stored file, so the storage has really
started writing when it fails: the half-written file must go, with the folders it created, and
the row, its audit event and anything else of the request must roll back.
"""

from __future__ import annotations

import errno
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.html import escape

from config import storages
from config.errors import DISK_FULL_MESSAGE
from tests.hostile import payloads
from tests.security.harness import Matrix, state
from tests.security.world import image_folder_zip_bytes

pytestmark = pytest.mark.django_db
WRITTEN_BEFORE_FULL = 100


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every write of the media storage fails with ENOSPC once 100 bytes are on disk; names them."""
    failed: list[str] = []
    write = storages._write

    def write_until_full(path: Any, content: Any) -> None:
        class Truncated:
            def chunks(self) -> Any:
                yield b"".join(content.chunks())[:WRITTEN_BEFORE_FULL]

        write(path, Truncated())
        assert path.stat().st_size > 0, "the partial file is on disk when the write fails"
        failed.append(path.name)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storages, "_write", write_until_full)
    return failed


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _checkpoint() -> SimpleUploadedFile:
    # A .pt: its weights are checked on the worker, so the upload reaches the storage (a .safetensors
    # that does not fit ViT-B-32 is refused from its header before anything is written).
    return _file("weights.pt", payloads.wrong_shape_safetensors().content)


def _dataset() -> SimpleUploadedFile:
    return _file("images.zip", image_folder_zip_bytes())


UPLOADS = {
    "web model version": (False, lambda m: f"/ai-systems/{m.acme.pk('system')}/versions/new/", lambda m: {
        "version": "full-disk", "architecture": "ViT-B-32", "class_names": "cat\ndog",
        "prompt_templates": "a photo of a {}.", "checkpoint": _checkpoint()}),
    "api model version": (True, lambda m: "/api/v1/model-versions/", lambda m: {
        "version": "full-disk", "architecture": "ViT-B-32", "ai_system": m.acme.pk("system"),
        "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."], "checkpoint": _checkpoint()}),
    "web dataset": (False, lambda m: "/datasets/new/", lambda m: {"name": "full-disk", "file": _dataset()}),
    "api dataset": (True, lambda m: "/api/v1/datasets/", lambda m: {"name": "full-disk", "file": _dataset()}),
    "web evidence": (False, lambda m: "/evidence/new/", lambda m: {
        "title": "full-disk", "kind": "document", "file": _file("minutes.pdf", b"%PDF-1.4 " + b"x" * 4096)}),
    "api evidence version": (True, lambda m: f"/api/v1/evidence/{m.acme.pk('evidence')}/versions/", lambda m: {
        "file": _file("minutes.pdf", b"%PDF-1.4 " + b"x" * 4096)}),
}


@pytest.mark.parametrize("door", list(UPLOADS))
def test_an_upload_that_fills_the_disk_is_refused_with_507_and_saves_nothing(matrix: Matrix, full_disk: list[str],
                                                                              door: str):
    api, path, data = UPLOADS[door]
    client = matrix.client("risk_officer", organisation_header="acme" if api else None)
    before = state()
    with transaction.atomic():
        response = client.post(path(matrix), data(matrix))
        after = state()
        transaction.set_rollback(True)
    assert full_disk, f"{door}: the upload never reached the storage"
    assert response.status_code == 507, f"{door}: {response.status_code}"
    if api:
        assert response["Content-Type"] == "application/json"
        assert json.loads(response.content) == {"detail": DISK_FULL_MESSAGE}
    else:
        assert response["Content-Type"].startswith("text/html")
        assert f'data-status="507">{escape(DISK_FULL_MESSAGE)}<' in response.content.decode()
    assert after == before, f"{door}: rows or files were left behind ({full_disk})"


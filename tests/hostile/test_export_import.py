"""export_organisation → import_organisation: a round trip loses nothing; a corrupt export imports nothing.

The comparison is itself generic: both organisations are exported and the two exports compared
row by row, with primary keys replaced by each row's position and files by their SHA-256.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.audit import audit_chain_verify
from governance.models import AuditEvent, Organisation
from governance.services.transfer import TransferError, organisation_export, organisation_import, tenant_models
from tests.security.harness import fingerprint
from tests.security.world import media_files, world_build

AUDIT = "governance.AuditEvent"
REHASHED = {"hash", "previous_hash", "object_id"}  # re-chained for the new organisation


@pytest.fixture
def exported(acme, globex, member, settings, tmp_path) -> tuple[Any, Path]:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = world_build(acme, member("org_admin").user, "zq-acme")
    assert not world.missing, world.missing
    out = tmp_path / "acme-export"
    return organisation_export(organisation=acme, out=out), out


def _normalised(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows per model, each pk replaced by its position and each file by its SHA-256."""
    data = json.loads((folder / "data.json").read_text())
    files = {(f["model"], f["pk"], f["field"]): f["sha256"]
             for f in json.loads((folder / "manifest.json").read_text())["files"]}
    position: dict[tuple[str, Any], int] = {}
    for row in data["rows"]:
        position[(row["model"], row["pk"])] = sum(1 for key in position if key[0] == row["model"])
    tenant = {model._meta.label: model for model in tenant_models()}
    result: dict[str, list[dict[str, Any]]] = {}
    for row in data["rows"]:
        model = tenant[row["model"]]
        fields = {}
        for name, value in row["fields"].items():
            field = model._meta.get_field(name)
            if (row["model"], name) in {(AUDIT, key) for key in REHASHED}:
                continue
            if field.unique and not field.is_relation:
                continue  # globally unique values (a report's uid) are renewed when imported beside the original
            if (row["model"], row["pk"], name) in files:
                value = files[(row["model"], row["pk"], name)]
            elif field.is_relation and field.related_model._meta.label in tenant:
                target = field.related_model._meta.label
                value = ([position[(target, item)] for item in value] if field.many_to_many
                         else position.get((target, value), value))
            fields[name] = value
        result.setdefault(row["model"], []).append(fields)
    return result


def test_a_round_trip_loses_nothing(exported, tmp_path):
    summary, out = exported
    imported = organisation_import(path=out, slug="acme-copy")
    copy = Organisation.objects.get(slug="acme-copy")
    assert imported.files == summary.files > 0
    assert {label: count + (1 if label == AUDIT else 0) for label, count in summary.rows.items()} == imported.rows | {
        AUDIT: imported.rows[AUDIT] + 1}
    again = tmp_path / "copy-export"
    organisation_export(organisation=copy, out=again)
    original, copied = _normalised(out), _normalised(again)
    by_sequence = sorted(copied[AUDIT], key=lambda event: event["sequence"])
    assert by_sequence[:-1] == sorted(original[AUDIT], key=lambda event: event["sequence"]), "the trail travels"
    copied[AUDIT] = by_sequence
    assert copied[AUDIT][-1]["changes"]["imported_from"] == summary.export_sha256
    assert {k: v for k, v in copied.items() if k != AUDIT} == {k: v for k, v in original.items() if k != AUDIT}
    assert audit_chain_verify(copy) == [], "the re-chained trail verifies"


def test_a_zip_round_trip_through_the_commands(exported, tmp_path):
    acme = Organisation.objects.get(slug="acme")
    archive = tmp_path / "acme.zip"
    call_command("export_organisation", "--organisation", "acme", "--out", str(archive), stdout=io.StringIO())
    call_command("import_organisation", str(archive), "--slug", "acme-zip", stdout=io.StringIO())
    copy = Organisation.objects.get(slug="acme-zip")
    for model in tenant_models():
        if hasattr(model, "organisation") and model is not AuditEvent:
            assert model._base_manager.filter(organisation=copy).count() == \
                model._base_manager.filter(organisation=acme).count(), model._meta.label


def test_importing_twice_never_collides(exported):
    _, out = exported
    organisation_import(path=out, slug="acme-one")
    organisation_import(path=out, slug="acme-two")
    with pytest.raises(TransferError, match="exists already"):
        organisation_import(path=out, slug="acme-two")


@pytest.mark.parametrize("damage", ["file", "data", "missing-file"])
def test_a_corrupt_export_imports_nothing(exported, damage):
    _, out = exported
    stored = sorted((out / "files").iterdir())[0]
    if damage == "file":
        stored.write_bytes(stored.read_bytes() + b"tampered")
    elif damage == "data":
        data = out / "data.json"
        data.write_text(data.read_text().replace("zq-acme", "zq-evil", 1))
    else:
        stored.unlink()
    before, files_before = fingerprint(), media_files()
    with pytest.raises(TransferError, match="corrupt"):
        organisation_import(path=out, slug="acme-corrupt")
    assert (fingerprint(), media_files()) == (before, files_before)
    assert not Organisation.objects.filter(slug="acme-corrupt").exists()


def test_the_import_command_says_why_it_refused(exported):
    _, out = exported
    (out / "manifest.json").write_text("{}")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_organisation", str(out))

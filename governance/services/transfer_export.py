"""Export one organisation: `data.json` (every tenant row), `files/<sha256>` and `manifest.json` (see `transfer`)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from governance.models.tenancy import Organisation
from governance.services.transfer import (
    DATA_FILE,
    FORMAT,
    MANIFEST_FILE,
    TransferSummary,
    rows_of,
    tenant_models,
)
from governance.services.transfer_folders import (
    folder_export,
    hashed_copy,
)


def _natural_key(instance_model: type[models.Model], pk: Any) -> dict[str, Any] | None:
    unique = [f for f in instance_model._meta.concrete_fields if f.unique and not f.primary_key]
    if not unique:
        return None
    row = instance_model._base_manager.filter(pk=pk).values(unique[0].attname).first()
    return {unique[0].attname: row[unique[0].attname]} if row else None


def _serialise(row: models.Model, tenant: set[type[models.Model]], files: list[dict[str, Any]],
               out: Path) -> dict[str, Any]:
    user_model = get_user_model()
    fields: dict[str, Any] = {}
    for model_field in row._meta.concrete_fields:
        if model_field.primary_key or model_field.name == "organisation":
            continue
        value = getattr(row, model_field.attname)
        if model_field.is_relation and value is not None:
            target = model_field.related_model
            assert target is not None  # a concrete relation always names its model
            if target is user_model:
                value = {"username": user_model._base_manager.get(pk=value).get_username()}
            elif target not in tenant:
                value = {"pk": value, "natural": _natural_key(target, value)}
        elif isinstance(model_field, models.FileField):
            value = _export_file(row, model_field, files, out) if value else None
        fields[model_field.name] = value
    for m2m in row._meta.local_many_to_many:
        through, target = m2m.remote_field.through, m2m.related_model
        assert through is not None and target is not None  # both resolved once the apps are loaded
        if through._meta.auto_created:
            ids = sorted(getattr(row, m2m.name).values_list("pk", flat=True))
            fields[m2m.name] = ids if target in tenant else [{"pk": pk, "natural": _natural_key(target, pk)}
                                                             for pk in ids]
    return {"model": row._meta.label, "pk": row.pk, "fields": fields}


def _export_file(row: models.Model, model_field: models.FileField, files: list[dict[str, Any]], out: Path) -> str:
    stored = getattr(row, model_field.name)
    with stored.open("rb") as source:
        sha, size = hashed_copy(source, out)
    files.append({"model": row._meta.label, "pk": row.pk, "field": model_field.name, "name": stored.name,
                  "sha256": sha, "size": size})
    return stored.name


def organisation_export(*, organisation: Organisation, out: Path) -> TransferSummary:
    """Write the organisation to `out` (a folder, or a .zip when the name ends so)."""
    as_zip = out.suffix == ".zip"
    folder = Path(tempfile.mkdtemp(prefix="anchorage-export-")) if as_zip else out
    folder.mkdir(parents=True, exist_ok=True)
    models_in_order = tenant_models()
    tenant = set(models_in_order)
    exported: dict[str, set[Any]] = {}
    rows: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    folder_files: list[dict[str, Any]] = []
    for model in models_in_order:
        batch = list(rows_of(model, organisation, exported))
        exported[model._meta.label] = {row.pk for row in batch}
        rows += [_serialise(row, tenant, files, folder) for row in batch]
        folder_files += [entry for row in batch for entry in folder_export(row, folder)]
    data = {"format": FORMAT, "organisation": {"name": organisation.name, "slug": organisation.slug,
                                               "risk_matrix": organisation.risk_matrix},
            "models": [model._meta.label for model in models_in_order], "rows": rows}
    encoded = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, indent=1).encode()
    (folder / DATA_FILE).write_bytes(encoded)
    export_sha = hashlib.sha256(encoded).hexdigest()
    (folder / MANIFEST_FILE).write_text(json.dumps({"format": FORMAT, "data_sha256": export_sha, "files": files,
                                                    "folder_files": folder_files}, indent=1))
    if as_zip:
        _zip_folder(folder, out)
        shutil.rmtree(folder)
    counts = {label: len(ids) for label, ids in exported.items() if ids}
    return TransferSummary(organisation.slug, counts, len(files), export_sha, len(folder_files))


def _zip_folder(folder: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())



"""Import an export as a NEW organisation: verify every hash first, then insert everything in one transaction,
remapping every key, re-homing row folders and re-chaining the audit trail (see `transfer`)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils.dateparse import parse_date, parse_datetime

from governance.models.tenancy import Organisation
from governance.services.transfer import (
    DATA_FILE,
    FORMAT,
    MANIFEST_FILE,
    TransferError,
    TransferSummary,
    organisation_field,
)
from governance.services.transfer_folders import (
    FILES_DIR,
    FolderError,
    folder_restore,
    is_safe_relative,
)


def _legacy_fields_renamed(label: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Exports made before migration 0006 carry one `operator_role`; it becomes the list [old value]."""
    if label == "governance.AISystem" and "operator_role" in fields:
        old_role = fields["operator_role"]
        fields = {name: value for name, value in fields.items() if name != "operator_role"}
        fields.setdefault("operator_roles", [old_role] if old_role else [])
    return fields


@contextmanager
def _opened(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield path
        return
    if not zipfile.is_zipfile(path):
        raise TransferError(f"{path} is neither an export folder nor a zip of one.")
    folder = Path(tempfile.mkdtemp(prefix="anchorage-import-"))
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts or info.is_dir():
                    if info.is_dir():
                        continue
                    raise TransferError(f"the export holds an unsafe path: {info.filename}")
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as source, target.open("wb") as copy:
                    shutil.copyfileobj(source, copy)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _verified(folder: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The export's data and manifest, after every hash in the manifest checked out."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
        encoded = (folder / DATA_FILE).read_bytes()
    except (OSError, ValueError) as error:
        raise TransferError(f"the export is incomplete or unreadable: {error}") from None
    sha = hashlib.sha256(encoded).hexdigest()
    if manifest.get("format") != FORMAT or manifest.get("data_sha256") != sha:
        raise TransferError(f"{DATA_FILE} does not match its SHA-256 in {MANIFEST_FILE}: the export is corrupt.")
    manifest.setdefault("folder_files", [])  # exports from before rows' folders travelled
    for entry in manifest["folder_files"]:
        if not is_safe_relative(entry.get("path")):
            raise TransferError(f"the export holds an unsafe path: {entry.get('path')!r} "
                                f"({entry.get('model')} #{entry.get('pk')})")
    for entry in manifest["files"] + manifest["folder_files"]:
        path = folder / FILES_DIR / str(entry["sha256"])
        if not _is_digest(entry["sha256"]) or not path.is_file() or _file_sha256(path) != entry["sha256"]:
            raise TransferError(f"file {entry.get('name') or entry['path']} ({entry['model']} #{entry['pk']}) is "
                                f"missing or does not match its SHA-256 {entry['sha256']}: the export is corrupt.")
    return json.loads(encoded), manifest, sha


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Importer:
    def __init__(self, folder: Path, data: dict[str, Any], organisation: Organisation) -> None:
        self.folder, self.data, self.organisation = folder, data, organisation
        self.new_pk: dict[tuple[str, Any], Any] = {}
        self.deferred: list[tuple[type[models.Model], tuple[str, Any], str, tuple[str, Any]]] = []
        self.manifest_files: list[dict[str, Any]] = []
        self.folder_files: list[dict[str, Any]] = []
        self.stored: list[tuple[Any, str]] = []
        self.folders: list[Path] = []
        self.counts: dict[str, int] = {}

    def run(self) -> None:
        labels = self.data["models"]
        by_model: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
        for row in self.data["rows"]:
            if row["model"] not in by_model:
                raise TransferError(f"rows of {row['model']}, which the export does not list")
            by_model[row["model"]].append(row)
        for label in labels:
            model = self._model(label)
            for row in by_model[label]:
                self._insert(model, row, labels)
        for model, row_key, attname, key in self.deferred:
            model._base_manager.filter(pk=self.new_pk[row_key]).update(**{attname: self._mapped(key)})
        for label in labels:
            for row in by_model[label]:
                self._links(self._model(label), row, labels)
        self._restore_folders()

    def _restore_folders(self) -> None:
        """Each exported row's folder, written under the row's NEW id."""
        by_row: dict[tuple[str, Any], list[dict[str, Any]]] = {}
        for entry in self.folder_files:
            by_row.setdefault((entry["model"], entry["pk"]), []).append(entry)
        for key, entries in by_row.items():
            row = self._model(key[0])._base_manager.get(pk=self._mapped(key))
            try:
                self.folders.append(folder_restore(row, entries, self.folder))
            except FolderError as error:
                raise TransferError(str(error)) from None

    def cleanup(self) -> None:
        """After a failed import: remove every file written so far."""
        for storage, stored in self.stored:
            storage.delete(stored)
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)

    def _model(self, label: str) -> type[models.Model]:
        try:
            return apps.get_model(label)
        except LookupError:
            raise TransferError(f"this installation has no model {label}") from None

    def _insert(self, model: type[models.Model], row: dict[str, Any], labels: list[str]) -> None:
        instance = model()
        tenancy = organisation_field(model)
        if tenancy is not None:
            setattr(instance, tenancy.name, self.organisation)
        for name, value in _legacy_fields_renamed(row["model"], row["fields"]).items():
            model_field = self._field(model, row, name)
            if model_field.many_to_many:
                continue
            setattr(instance, model_field.attname, self._value(instance, row, model_field, value, labels))
        _unique_values_renew(instance)
        instance.save_base(raw=True)  # keeps timestamps as exported; no custom save() runs
        self.new_pk[(row["model"], row["pk"])] = instance.pk
        self.counts[row["model"]] = self.counts.get(row["model"], 0) + 1

    @staticmethod
    def _field(model: type[models.Model], row: dict[str, Any], name: str) -> models.Field[Any, Any]:
        """The model's own field `name` (a reverse relation has no column to fill)."""
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = None
        if not isinstance(model_field, models.Field):
            raise TransferError(f"{row['model']} #{row['pk']}: {name} is not a field of {model._meta.label}")
        return model_field

    def _value(self, instance: models.Model, row: dict[str, Any], model_field: Any, value: Any,
               labels: list[str]) -> Any:
        if value is None:
            return None
        if model_field.is_relation:
            return self._relation(type(instance), row, model_field, value, labels)
        if isinstance(model_field, models.FileField):
            return self._store_file(instance, row, model_field, value)
        if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
            return parse_datetime(value)
        if isinstance(model_field, models.DateField) and isinstance(value, str):
            return parse_date(value)
        return value

    def _relation(self, model: type[models.Model], row: dict[str, Any], model_field: Any, value: Any,
                  labels: list[str]) -> Any:
        target = model_field.related_model
        if isinstance(value, dict) and "username" in value:
            return _user(value["username"]).pk
        if isinstance(value, dict):
            return _global_pk(target, value)
        key = (target._meta.label, value)
        if key in self.new_pk:
            return self.new_pk[key]
        if target._meta.label in labels and model_field.null:  # a row further on (a cycle): linked after
            self.deferred.append((model, (row["model"], row["pk"]), model_field.attname, key))
            return None
        raise TransferError(f"{row['model']} #{row['pk']}: {model_field.name} points to {key}, not in the export")

    def _mapped(self, key: tuple[str, Any]) -> Any:
        if key not in self.new_pk:
            raise TransferError(f"a reference to {key}, which is not in the export")
        return self.new_pk[key]

    def _store_file(self, instance: models.Model, row: dict[str, Any], model_field: models.FileField,
                    name: str) -> str:
        entry = next((f for f in self.manifest_files if f["model"] == row["model"] and f["pk"] == row["pk"]
                      and f["field"] == model_field.name), None)
        if entry is None:
            raise TransferError(f"{row['model']} #{row['pk']}: its {model_field.name} is not in the manifest")
        content = (self.folder / FILES_DIR / entry["sha256"]).read_bytes()
        if callable(model_field.upload_to):  # a per-organisation prefix (checkpoints): the NEW organisation's
            name = model_field.generate_filename(instance, PurePosixPath(name).name)
        try:
            stored = model_field.storage.save(name, ContentFile(content))
        except SuspiciousFileOperation:
            raise TransferError(f"the export holds an unsafe path: {name!r} ({row['model']} #{row['pk']})") from None
        self.stored.append((model_field.storage, stored))
        return stored

    def _links(self, model: type[models.Model], row: dict[str, Any], labels: list[str]) -> None:
        for m2m in model._meta.local_many_to_many:
            through, target = m2m.remote_field.through, m2m.related_model
            assert through is not None and target is not None  # both resolved once the apps are loaded
            if m2m.name not in row["fields"] or not through._meta.auto_created:
                continue
            ids = [self._mapped((target._meta.label, value)) if not isinstance(value, dict)
                   else _global_pk(target, value) for value in row["fields"][m2m.name]]
            getattr(model._base_manager.get(pk=self.new_pk[(row["model"], row["pk"])]), m2m.name).set(ids)


def _unique_values_renew(instance: models.Model) -> None:
    """A globally unique value (a report's uid) that this installation already holds gets a fresh default."""
    for model_field in instance._meta.concrete_fields:
        if not model_field.unique or model_field.primary_key or model_field.is_relation:
            continue
        value = getattr(instance, model_field.attname)
        if type(instance)._base_manager.filter(**{model_field.attname: value}).exists():
            if not model_field.has_default():
                raise TransferError(f"{instance._meta.label}.{model_field.name} {value!r} exists here already")
            setattr(instance, model_field.attname, model_field.get_default())


def _user(username: str) -> Any:
    """The account an exported name refers to; a new one (no password) is created normalised (NFKC)."""
    user_model = get_user_model()
    username = user_model.normalize_username(str(username).strip())
    user = user_model._base_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is None and user_model._base_manager.filter(**{f"{user_model.USERNAME_FIELD}__iexact": username}).exists():
        raise TransferError(f"the export names the account {username!r}; an account with this name in other "
                            "letter case exists here. Rename one of them before importing")
    if user is None:
        user = user_model(**{user_model.USERNAME_FIELD: username})
        user.set_unusable_password()
        user.save()
    return user


def _global_pk(target: type[models.Model], value: dict[str, Any]) -> Any:
    natural = value.get("natural")
    query = target._base_manager.filter(**natural) if natural else target._base_manager.filter(pk=value["pk"])
    found = query.values_list("pk", flat=True).first()
    if found is None:
        raise TransferError(f"{target._meta.label} {natural or value['pk']} does not exist here (load the catalogs)")
    return found


def _rechain_audit(organisation: Organisation, new_pk: dict[tuple[str, Any], Any]) -> None:
    from governance.audit import GENESIS_HASH, _event_hash
    from governance.models.audit import AuditEvent

    previous, sequence = GENESIS_HASH, 0
    for event in AuditEvent.objects.filter(organisation=organisation).order_by("sequence"):
        mapped = new_pk.get((event.object_type, _as_pk(event.object_id)))
        if mapped is not None:
            event.object_id = str(mapped)
        event.previous_hash = previous
        event.hash = _event_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(object_id=event.object_id, previous_hash=event.previous_hash,
                                                      hash=event.hash)
        previous, sequence = event.hash, event.sequence
    Organisation.objects.filter(pk=organisation.pk).update(audit_head_sequence=sequence, audit_head_hash=previous)
    organisation.audit_head_sequence, organisation.audit_head_hash = sequence, previous


def _as_pk(object_id: str) -> Any:
    return int(object_id) if object_id.isdigit() else object_id


def organisation_import(*, path: Path, slug: str = "", name: str = "", actor: Any = None) -> TransferSummary:
    """Import an export as a new organisation; every hash is checked before anything is written."""
    from governance.audit import audit_event_record

    with _opened(Path(path)) as folder:
        data, manifest, export_sha = _verified(folder)
        source = data["organisation"]
        slug = slug or f"{source['slug']}-imported"
        if Organisation.objects.filter(slug=slug).exists():
            raise TransferError(f"an organisation with the slug {slug!r} exists already: choose another with --slug")
        importer = _Importer(folder, data, Organisation())
        importer.manifest_files, importer.folder_files = manifest["files"], manifest["folder_files"]
        try:
            with transaction.atomic():
                organisation = Organisation.objects.create(name=name or source["name"], slug=slug,
                                                           risk_matrix=source["risk_matrix"])
                importer.organisation = organisation
                importer.run()
                _rechain_audit(organisation, importer.new_pk)
                audit_event_record(organisation=organisation, actor=actor, action="create",
                                   object_type="governance.Organisation", object_id=str(organisation.pk),
                                   changes={"imported_from": export_sha, "source_slug": source["slug"],
                                            "rows": len(data["rows"]), "files": len(manifest["files"]),
                                            "folder_files": len(manifest["folder_files"])})
        except BaseException:
            importer.cleanup()
            raise
    return TransferSummary(slug, importer.counts, len(manifest["files"]), export_sha, len(manifest["folder_files"]))

"""Export one organisation (rows + files + audit trail) and import it as a new organisation: the format and the
discovery of tenant rows, shared by `transfer_export` and `transfer_import`.

For consultants moving an engagement between installations. The export is a folder (or a .zip
of it) holding `data.json` — every tenant-owned row — and `files/<sha256>` with `manifest.json`
naming each file's SHA-256 and the SHA-256 of `data.json` (the export's identity). Files are those
of FileFields and those a row keeps in a folder named by its id (a robustness run's artifacts,
`transfer_folders`), which the import re-homes under the new row's id.

Tenant rows are discovered, not listed: every concrete model with an `organisation` foreign key,
then every model reachable only through them (a foreign key to an exported row and no
organisation of its own, e.g. evaluation shards), repeated until nothing new appears. Foreign
keys to users travel as usernames; to global rows (catalogs) as a unique natural key; many-to-many
links of automatic through tables as lists. Import verifies every file's hash before anything is
written (and every path inside a row's folder is checked to stay there), then inserts everything
in one transaction into a NEW organisation, remapping every primary and foreign key; a failure
removes every file it had written. The audit chain hashes the organisation's id, so the imported events
are re-chained for the new organisation (content, order and times kept) and one more event,
"imported from <export sha256>", records where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from governance.models.tenancy import Organisation

FORMAT = "anchorage.organisation-export/1"
DATA_FILE, MANIFEST_FILE = "data.json", "manifest.json"


class TransferError(ValueError):
    """The export cannot be read or imported; the message says why. Nothing was written."""


@dataclass(frozen=True)
class TransferSummary:
    organisation: str
    rows: dict[str, int]
    files: int
    export_sha256: str
    folder_files: int = 0


# --- discovery ------------------------------------------------------------------------------------

def organisation_field(model: type[models.Model]) -> models.ForeignKey | None:
    try:
        candidate = model._meta.get_field("organisation")
    except Exception:
        return None
    return candidate if isinstance(candidate, models.ForeignKey) and candidate.related_model is Organisation else None


def _concrete_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if not model._meta.proxy and model._meta.managed
            and model is not Organisation]


def tenant_models() -> list[type[models.Model]]:
    """Models with an organisation, then the models reachable only through them, parents first."""
    found = [model for model in _concrete_models() if organisation_field(model) is not None]
    changed = True
    while changed:
        changed = False
        for model in _concrete_models():
            if model in found or organisation_field(model) is not None:
                continue
            if any(fk.related_model in found for fk in _foreign_keys(model)):
                found.append(model)
                changed = True
    return _ordered(found)


def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.many_to_one]


def _ordered(found: list[type[models.Model]]) -> list[type[models.Model]]:
    ordered: list[type[models.Model]] = []
    pending = list(found)
    while pending:
        for model in pending:
            needs = {fk.related_model for fk in _foreign_keys(model) if not fk.null and fk.related_model in found}
            if needs <= {*ordered, model}:
                ordered.append(model)
                pending.remove(model)
                break
        else:
            raise TransferError(f"circular required foreign keys among {[m._meta.label for m in pending]}")
    return ordered


def rows_of(model: type[models.Model], organisation: Organisation,
             exported: dict[str, set[Any]]) -> models.QuerySet:
    if organisation_field(model) is not None:
        return model._base_manager.filter(organisation=organisation).order_by("pk")
    condition = models.Q(pk__in=[])
    for fk in _foreign_keys(model):
        if fk.related_model._meta.label in exported:
            condition |= models.Q(**{f"{fk.attname}__in": exported[fk.related_model._meta.label]})
    return model._base_manager.filter(condition).order_by("pk")

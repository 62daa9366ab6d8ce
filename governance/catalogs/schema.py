"""Parse and validate the framework catalogs in this folder (the crosswalks: ``crosswalks.py``).

Pure Python (PyYAML only) — no Django import — so that the catalog files can be
checked in any test run and the Django management command can load them
idempotently into models from the frozen dataclasses returned here.

File formats are described in ``README.md``. Entry point: :func:`load_catalog` — one
framework edition file → :class:`Catalog`. The YAML reader and field checks here serve
``crosswalks.py`` too.

Every problem raises :class:`CatalogError` with the file, the place in the file
and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypedDict, overload

import yaml

CATALOG_DIR = Path(__file__).resolve().parent

KINDS = frozenset(
    {
        "function",
        "category",
        "subcategory",
        "clause",
        "subclause",
        "annex",
        "control-objective",
        "control",
        "article",
        "paragraph",
        "point",
        "annex-point",
        "risk-source",
    }
)
TEXT_POLICIES = frozenset({"full", "paraphrase", "ids_and_titles"})
# How results against the framework are worded: "conformity" (requirements: compliant / non-compliant) or
# "guidance" (a "should" standard such as ISO/IEC 23894: addressed / partly addressed / not addressed).
ASSESSMENT_SCALES = frozenset({"conformity", "guidance"})
TEXT_STATUSES = frozenset({"official", "paraphrase", "unofficial-correction", "not-available"})
_FRAMEWORK_REQUIRED = (
    "urn",
    "slug",
    "ref_id",
    "name",
    "edition",
    "publisher",
    "published",
    "source",
    "licence",
    "text_policy",
)
_FRAMEWORK_OPTIONAL = ("notes", "assessment_scale")
_REQUIREMENT_REQUIRED = (
    "urn",
    "ref_id",
    "parent",
    "kind",
    "title",
    "text",
    "text_status",
    "assessable",
)
_REQUIREMENT_OPTIONAL = ("applies_from", "applies_from_source", "notes", "fact_source")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOKEN_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
_FRAMEWORK_URN_RE = re.compile(r"^urn:anchorage:framework:(?P<slug>[a-z0-9-]+):(?P<token>[a-z0-9.-]+)$")
_REQ_URN_TAIL_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")


class CatalogError(ValueError):
    """A catalog or crosswalk file is malformed or inconsistent.

    ``path`` is the file, ``where`` the place in it (e.g. ``requirements[12]
    (ref_id 'MEASURE 2.7')``); ``str(error)`` combines both with the message.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, where: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.where = where
        prefix = ": ".join(part for part in (self.path, where) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


@dataclass(frozen=True)
class Framework:
    urn: str
    slug: str
    ref_id: str
    name: str
    edition: str
    publisher: str
    published: dt.date
    source: str
    licence: str
    text_policy: str
    notes: str | None = None
    assessment_scale: str = "conformity"


@dataclass(frozen=True)
class Requirement:
    urn: str
    ref_id: str
    parent: str | None  # ref_id of the parent, as in the file
    parent_urn: str | None
    kind: str
    title: str | None
    text: str | None
    text_status: str
    assessable: bool
    order: int  # 0-based position in document order
    depth: int  # 0 for roots
    framework_urn: str
    applies_from: dt.date | None = None
    applies_from_source: str | None = None
    notes: str | None = None
    # Where a fact the node states (its existence, text or date) comes from when that is a secondary source
    # rather than the edition's own Official Journal text; the loader keeps it in the row's notes.
    fact_source: str | None = None


@dataclass(frozen=True)
class Catalog:
    framework: Framework
    requirements: tuple[Requirement, ...]
    path: str
    sha256: str  # of the file's bytes: lets a loader skip an unchanged edition
    _by_ref_id: MappingProxyType = field(init=False, repr=False, compare=False)
    _by_urn: MappingProxyType = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_ref_id", MappingProxyType({r.ref_id: r for r in self.requirements}))
        object.__setattr__(self, "_by_urn", MappingProxyType({r.urn: r for r in self.requirements}))

    def get(self, ref_id: str) -> Requirement:
        """The requirement with this ref_id (``KeyError`` if none)."""
        return self._by_ref_id[ref_id]

    def by_urn(self, urn: str) -> Requirement:
        return self._by_urn[urn]

    def __contains__(self, ref_id_or_urn: object) -> bool:
        return ref_id_or_urn in self._by_ref_id or ref_id_or_urn in self._by_urn

    def children(self, ref_id: str | None) -> tuple[Requirement, ...]:
        """Direct children of ``ref_id`` (roots for ``None``), in document order."""
        return tuple(r for r in self.requirements if r.parent == ref_id)

    def of_kind(self, kind: str) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.kind == kind)

    def assessable(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if r.assessable)


# --------------------------------------------------------------------------- YAML


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys in a mapping (PyYAML keeps the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    result: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in result:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=deep)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> tuple[Any, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read file: {exc}", path=path) from exc
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 - safe loader subclass
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8: {exc}", path=path) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"invalid YAML: {exc}", path=path) from exc
    return data, hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------- field checks


def check_keys(obj: Any, required: tuple[str, ...], optional: tuple[str, ...], path: Path, where: str) -> dict:
    if not isinstance(obj, dict):
        raise CatalogError(f"expected a mapping, got {type(obj).__name__}", path=path, where=where)
    missing = [k for k in required if k not in obj]
    if missing:
        raise CatalogError(f"missing key(s): {', '.join(missing)}", path=path, where=where)
    unknown = sorted(str(k) for k in obj if k not in required and k not in optional)
    if unknown:
        allowed = ", ".join((*required, *optional))
        raise CatalogError(f"unknown key(s): {', '.join(unknown)} (allowed: {allowed})", path=path, where=where)
    return obj


@overload
def text_field(value: Any, key: str, path: Path, where: str, *, nullable: Literal[False] = ...) -> str: ...
@overload
def text_field(value: Any, key: str, path: Path, where: str, *, nullable: Literal[True]) -> str | None: ...


def text_field(value: Any, key: str, path: Path, where: str, *, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        hint = " (quote it in the YAML)" if isinstance(value, (int, float, bool, dt.date)) else ""
        expected = "a string or null" if nullable else "a non-empty string"
        raise CatalogError(
            f"{key} must be {expected}, got {type(value).__name__} {value!r}{hint}", path=path, where=where
        )
    if not value.strip():
        raise CatalogError(f"{key} must not be blank", path=path, where=where)
    return value


@overload
def _date(value: Any, key: str, path: Path, where: str, *, nullable: Literal[False] = ...) -> dt.date: ...
@overload
def _date(value: Any, key: str, path: Path, where: str, *, nullable: Literal[True]) -> dt.date | None: ...


def _date(value: Any, key: str, path: Path, where: str, *, nullable: bool = False) -> dt.date | None:
    if value is None and nullable:
        return None
    if isinstance(value, dt.datetime):
        raise CatalogError(f"{key} must be a date (YYYY-MM-DD), not a timestamp", path=path, where=where)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise CatalogError(f"{key} must be a date YYYY-MM-DD, got {value!r}", path=path, where=where)


def choice_field(value: Any, key: str, allowed: frozenset[str], path: Path, where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise CatalogError(
            f"{key} {value!r} is invalid; expected one of: {', '.join(sorted(allowed))}", path=path, where=where
        )
    return value


# --------------------------------------------------------------------------- catalogs


def _parse_framework(obj: Any, path: Path) -> tuple[Framework, str]:
    where = "framework"
    check_keys(obj, _FRAMEWORK_REQUIRED, _FRAMEWORK_OPTIONAL, path, where)
    values = {k: text_field(obj[k], k, path, where)
              for k in _FRAMEWORK_REQUIRED if k not in ("published", "text_policy")}
    slug = values["slug"]
    if not SLUG_RE.match(slug):
        raise CatalogError(f"slug {slug!r} must be lowercase letters, digits and hyphens", path=path, where=where)
    match = _FRAMEWORK_URN_RE.match(values["urn"])
    if not match:
        raise CatalogError(
            f"urn {values['urn']!r} must look like urn:anchorage:framework:<slug>:<edition-token>",
            path=path,
            where=where,
        )
    if match["slug"] != slug:
        raise CatalogError(f"urn {values['urn']!r} does not contain the slug {slug!r}", path=path, where=where)
    token = match["token"]
    if not _TOKEN_RE.match(token):
        raise CatalogError(f"edition token {token!r} in urn is malformed", path=path, where=where)
    framework = Framework(
        urn=values["urn"],
        slug=slug,
        ref_id=values["ref_id"],
        name=values["name"],
        edition=values["edition"],
        publisher=values["publisher"],
        published=_date(obj["published"], "published", path, where),
        source=values["source"],
        licence=values["licence"],
        text_policy=choice_field(obj["text_policy"], "text_policy", TEXT_POLICIES, path, where),
        notes=text_field(obj.get("notes"), "notes", path, where, nullable=True),
        assessment_scale=choice_field(obj.get("assessment_scale", "conformity"), "assessment_scale", ASSESSMENT_SCALES,
                                 path, where),
    )
    return framework, f"urn:anchorage:req:{slug}:{token}:"


def load_catalog(path: str | Path) -> Catalog:
    """Parse and validate one framework-edition file.

    Checks: required/unknown keys, URN shapes (requirement URNs must start with
    ``urn:anchorage:req:<slug>:<edition-token>:``), unique URNs and ref_ids, parents
    that exist and come earlier in document order, kinds, text statuses
    consistent with the framework's ``text_policy`` (``text`` null exactly when
    ``text_status`` is ``not-available``; no ``official`` text unless the policy is
    ``full``; no text at all under ``ids_and_titles``), boolean ``assessable``,
    dates, and a source for every ``applies_from``.
    """
    path = Path(path)
    data, sha = read_yaml(path)
    check_keys(data, ("framework", "requirements"), (), path, "top level")
    framework, urn_prefix = _parse_framework(data["framework"], path)

    items = data["requirements"]
    if not isinstance(items, list) or not items:
        raise CatalogError("requirements must be a non-empty list", path=path, where="requirements")
    seen = _Seen(all_ref_ids={ref_id for item in items
                              if isinstance(item, dict) and isinstance(ref_id := item.get("ref_id"), str)})
    for index, item in enumerate(items):
        requirement = _parse_requirement(item, index, framework, urn_prefix, seen, path)
        seen.by_ref[requirement.ref_id] = requirement
        seen.urns[requirement.urn] = requirement.ref_id
    return Catalog(framework=framework, requirements=tuple(seen.by_ref.values()), path=str(path), sha256=sha)


@dataclass
class _Seen:
    """What the file's earlier requirements claimed (ref_ids, URNs) and every ref_id it names."""

    all_ref_ids: set[str]
    by_ref: dict[str, Requirement] = field(default_factory=dict)
    urns: dict[str, str] = field(default_factory=dict)


def _parse_requirement(item: Any, index: int, framework: Framework, urn_prefix: str, seen: _Seen,
                       path: Path) -> Requirement:
    label = item.get("ref_id") if isinstance(item, dict) else None
    where = f"requirements[{index}]" + (f" (ref_id {label!r})" if isinstance(label, str) else "")
    check_keys(item, _REQUIREMENT_REQUIRED, _REQUIREMENT_OPTIONAL, path, where)
    ref_id = _ref_id(item, seen, path, where)
    urn = _urn(item, urn_prefix, seen, path, where)
    parent = text_field(item["parent"], "parent", path, where, nullable=True)
    parent_req = _parent(parent, ref_id, seen, path, where)
    kind = choice_field(item["kind"], "kind", KINDS, path, where)
    texts = _texts(item, framework.text_policy, path, where)
    assessable = item["assessable"]
    if not isinstance(assessable, bool):
        raise CatalogError(f"assessable must be true or false, got {assessable!r}", path=path, where=where)
    applies_from, applies_from_source = _dates(item, path, where)
    return Requirement(
        urn=urn,
        ref_id=ref_id,
        parent=parent,
        parent_urn=parent_req.urn if parent_req else None,
        kind=kind,
        assessable=assessable,
        order=index,
        depth=parent_req.depth + 1 if parent_req else 0,
        framework_urn=framework.urn,
        applies_from=applies_from,
        applies_from_source=applies_from_source,
        **texts,
    )


def _ref_id(item: dict, seen: _Seen, path: Path, where: str) -> str:
    ref_id = text_field(item["ref_id"], "ref_id", path, where)
    if ref_id != ref_id.strip():
        raise CatalogError(f"ref_id {ref_id!r} has leading/trailing whitespace", path=path, where=where)
    if ref_id in seen.by_ref:
        raise CatalogError(
            f"duplicate ref_id {ref_id!r} (first at requirements[{seen.by_ref[ref_id].order}])", path=path, where=where
        )
    return ref_id


def _urn(item: dict, urn_prefix: str, seen: _Seen, path: Path, where: str) -> str:
    urn = text_field(item["urn"], "urn", path, where)
    if not urn.startswith(urn_prefix) or not _REQ_URN_TAIL_RE.match(urn[len(urn_prefix) :]):
        raise CatalogError(
            f"urn {urn!r} must be {urn_prefix}<lowercase id: letters, digits, '.', '-'>", path=path, where=where
        )
    if urn in seen.urns:
        raise CatalogError(f"duplicate urn {urn!r} (first used by ref_id {seen.urns[urn]!r})", path=path, where=where)
    return urn


def _parent(parent: str | None, ref_id: str, seen: _Seen, path: Path, where: str) -> Requirement | None:
    """The parent requirement, which must exist and come earlier in document order."""
    if parent is None:
        return None
    if parent == ref_id:
        raise CatalogError(f"requirement {ref_id!r} is its own parent", path=path, where=where)
    parent_req = seen.by_ref.get(parent)
    if parent_req is None:
        if parent in seen.all_ref_ids:
            raise CatalogError(
                f"parent {parent!r} appears after its child; list requirements in document order",
                path=path,
                where=where,
            )
        raise CatalogError(f"missing parent: no requirement has ref_id {parent!r}", path=path, where=where)
    return parent_req


class _Texts(TypedDict):
    title: str | None
    text: str | None
    text_status: str
    notes: str | None
    fact_source: str | None


def _texts(item: dict, policy: str, path: Path, where: str) -> _Texts:
    """title, text, text_status, notes and fact_source, consistent with the framework's text policy."""
    text = text_field(item["text"], "text", path, where, nullable=True)
    text_status = choice_field(item["text_status"], "text_status", TEXT_STATUSES, path, where)
    if (text is None) != (text_status == "not-available"):
        raise CatalogError(
            "text must be null exactly when text_status is 'not-available' "
            f"(text is {'null' if text is None else 'set'}, text_status {text_status!r})",
            path=path,
            where=where,
        )
    if policy == "ids_and_titles" and text is not None:
        raise CatalogError("text_policy 'ids_and_titles' allows no text; set text: null", path=path, where=where)
    if policy != "full" and text_status == "official":
        raise CatalogError(
            f"text_status 'official' is not allowed under text_policy {policy!r}", path=path, where=where
        )
    notes = text_field(item.get("notes"), "notes", path, where, nullable=True)
    if text_status == "unofficial-correction" and not notes:
        raise CatalogError(
            "text_status 'unofficial-correction' needs notes saying what was corrected and from which source",
            path=path,
            where=where,
        )
    return {"title": text_field(item["title"], "title", path, where, nullable=True), "text": text,
            "text_status": text_status, "notes": notes,
            "fact_source": text_field(item.get("fact_source"), "fact_source", path, where, nullable=True)}


def _dates(item: dict, path: Path, where: str) -> tuple[dt.date | None, str | None]:
    applies_from = _date(item.get("applies_from"), "applies_from", path, where, nullable=True)
    applies_from_source = text_field(item.get("applies_from_source"), "applies_from_source", path, where,
                                     nullable=True)
    if applies_from is not None and applies_from_source is None:
        raise CatalogError("applies_from needs applies_from_source", path=path, where=where)
    if applies_from is None and applies_from_source is not None:
        raise CatalogError("applies_from_source given without applies_from", path=path, where=where)
    return applies_from, applies_from_source

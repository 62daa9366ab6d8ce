"""Parse and validate the crosswalk file (``crosswalks.yaml``) against loaded catalogs.

Pure Python like ``schema.py``, whose YAML reader and field checks it uses. Entry points:

* :func:`load_crosswalks` — the crosswalk file, checked against loaded catalogs → ``list[Mapping]``
* :func:`load_directory` — every ``*.yaml`` catalog in a folder plus its ``crosswalks.yaml``
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.catalogs.schema import (
    CATALOG_DIR,
    SLUG_RE,
    Catalog,
    CatalogError,
    Requirement,
    check_keys,
    choice_field,
    load_catalog,
    read_yaml,
    text_field,
)

CROSSWALKS_FILENAME = "crosswalks.yaml"
# OLIR-style relationship of the *source* requirement to the *target* requirement:
#   equal      — both ask for the same thing;
#   subset     — everything the source asks for is also asked by the target (target asks more);
#   superset   — the source asks for everything the target asks, and more;
#   intersects — they overlap in part.
RELATIONSHIPS = frozenset({"equal", "subset", "superset", "intersects"})
THEMES = frozenset(
    {
        "risk-management",
        "data-governance",
        "documentation",
        "record-keeping",
        "transparency",
        "human-oversight",
        "accuracy-robustness-cybersecurity",
        "post-market-monitoring",
    }
)

_MAPPING_REQUIRED = ("source", "target", "relationship", "provenance")
_MAPPING_OPTIONAL = ("theme", "rationale")
# A row's provenance is either a published crosswalk (a key of the file's `sources` and a locator: row or page)
# or the product's own mapping, which then needs a rationale and a reviewer.
_PROVENANCE_KEYS = ("document", "locator", "own", "reviewer", "note")
_SOURCE_REQUIRED = ("title", "publisher", "version", "url", "citation")
_SOURCE_OPTIONAL = ("notes",)
OWN_MAPPING_CITATION = "Anchorage's own mapping"
PROVENANCE_REQUIRED_MESSAGE = (
    "provenance must name a source document with a locator ({document: <key of sources>, locator: <row or page>}) "
    "or be the product's own mapping with a rationale and a reviewer ({own: true, reviewer: <name or role>})"
)


@dataclass(frozen=True)
class CrosswalkSource:
    """A published crosswalk that rows cite (the file's ``sources`` section)."""

    key: str
    title: str
    publisher: str
    version: str  # version or date, as the document gives it
    url: str
    citation: str  # short name, e.g. "Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk"
    notes: str | None = None


@dataclass(frozen=True)
class Mapping:
    source: str  # requirement URN
    target: str  # requirement URN
    relationship: str
    rationale: str  # "" only for a row taken from a source document
    provenance: str  # one line: the document, version and locator, or "Anchorage's own mapping; reviewer: …"
    source_framework: str  # framework URN
    target_framework: str  # framework URN
    order: int  # 0-based position in the file
    theme: str | None = None
    is_own_mapping: bool = False
    source_document: str = ""  # title of the cited crosswalk
    source_publisher: str = ""
    source_version: str = ""
    source_url: str = ""
    source_locator: str = ""  # row or page in the cited crosswalk
    reviewer: str = ""  # who stands behind an own mapping
    citation: str = ""  # short form for inline text: "<document's short name>, <locator>"


def load_crosswalks(path: str | Path, catalogs: Iterable[Catalog]) -> list[Mapping]:
    """Parse the crosswalk file and check every mapping against the loaded catalogs.

    Checks: required/unknown keys, both ends are requirement URNs of a loaded
    catalog, the ends belong to different frameworks, relationship and theme
    values, provenance (a cited source document with a locator, or the product's
    own mapping with a rationale and a reviewer), no pair listed twice (in either
    direction).
    """
    path = Path(path)
    index: dict[str, Requirement] = {}
    framework_urns: dict[str, str] = {}
    for catalog in catalogs:
        fw = catalog.framework.urn
        if fw in framework_urns:
            raise CatalogError(f"framework {fw!r} is loaded twice ({framework_urns[fw]} and {catalog.path})", path=path)
        framework_urns[fw] = catalog.path
        for requirement in catalog.requirements:
            index[requirement.urn] = requirement

    data, _ = read_yaml(path)
    check_keys(data, ("crosswalks",), ("sources",), path, "top level")
    sources = _parse_sources(data.get("sources"), path)
    items = data["crosswalks"]
    if not isinstance(items, list):
        raise CatalogError("crosswalks must be a list", path=path, where="crosswalks")

    seen: dict[tuple[str, str], int] = {}
    mappings: list[Mapping] = []
    for i, item in enumerate(items):
        where = f"crosswalks[{i}]"
        check_keys(item, _MAPPING_REQUIRED, _MAPPING_OPTIONAL, path, where)
        source = text_field(item["source"], "source", path, where)
        target = text_field(item["target"], "target", path, where)
        where = f"crosswalks[{i}] ({source} -> {target})"
        for end, urn in (("source", source), ("target", target)):
            if urn not in index:
                raise CatalogError(
                    f"{end} {urn!r} does not exist in any loaded catalog (dangling crosswalk end)",
                    path=path,
                    where=where,
                )
        src, tgt = index[source], index[target]
        if src.framework_urn == tgt.framework_urn:
            raise CatalogError(
                f"source and target are both in {src.framework_urn!r}; crosswalks map between frameworks",
                path=path,
                where=where,
            )
        relationship = choice_field(item["relationship"], "relationship", RELATIONSHIPS, path, where)
        theme = item.get("theme")
        if theme is not None:
            theme = choice_field(theme, "theme", THEMES, path, where)
        rationale = text_field(item.get("rationale"), "rationale", path, where, nullable=True) or ""
        provenance = _parse_provenance(item["provenance"], rationale, sources, path, where)
        for pair in ((source, target), (target, source)):
            if pair in seen:
                raise CatalogError(
                    f"pair already mapped at crosswalks[{seen[pair]}] "
                    f"({'same' if pair == (source, target) else 'reverse'} direction)",
                    path=path,
                    where=where,
                )
        seen[(source, target)] = i
        mappings.append(
            Mapping(
                source=source,
                target=target,
                relationship=relationship,
                rationale=rationale,
                source_framework=src.framework_urn,
                target_framework=tgt.framework_urn,
                order=i,
                theme=theme,
                **provenance,
            )
        )
    return mappings


def _parse_sources(obj: Any, path: Path) -> dict[str, CrosswalkSource]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise CatalogError("sources must be a mapping of key -> document", path=path, where="sources")
    sources: dict[str, CrosswalkSource] = {}
    for key, entry in obj.items():
        where = f"sources[{key!r}]"
        if not isinstance(key, str) or not SLUG_RE.match(key):
            raise CatalogError("a source key must be lowercase letters, digits and hyphens", path=path, where=where)
        check_keys(entry, _SOURCE_REQUIRED, _SOURCE_OPTIONAL, path, where)
        values = {k: text_field(entry[k], k, path, where) for k in _SOURCE_REQUIRED}
        notes = text_field(entry.get("notes"), "notes", path, where, nullable=True)
        sources[key] = CrosswalkSource(key=key, notes=notes, **values)
    return sources


def _parse_provenance(
    obj: Any, rationale: str, sources: dict[str, CrosswalkSource], path: Path, where: str
) -> dict[str, Any]:
    """The provenance fields of a :class:`Mapping` (everything but the ends, relationship and theme)."""
    if not isinstance(obj, dict):
        raise CatalogError(PROVENANCE_REQUIRED_MESSAGE, path=path, where=where)
    check_keys(obj, (), _PROVENANCE_KEYS, path, f"{where} provenance")
    note = text_field(obj.get("note"), "note", path, where, nullable=True)
    suffix = f"; {note}" if note else ""
    if obj.get("own") is True:
        reviewer = text_field(obj.get("reviewer"), "reviewer", path, where, nullable=True)
        if not reviewer or not rationale or "document" in obj or "locator" in obj:
            raise CatalogError(PROVENANCE_REQUIRED_MESSAGE, path=path, where=where)
        return {"provenance": f"{OWN_MAPPING_CITATION}; reviewer: {reviewer}{suffix}", "is_own_mapping": True,
                "reviewer": reviewer, "citation": OWN_MAPPING_CITATION}
    key, locator = obj.get("document"), obj.get("locator")
    if "own" in obj or "reviewer" in obj or not isinstance(locator, str) or not locator.strip():
        raise CatalogError(PROVENANCE_REQUIRED_MESSAGE, path=path, where=where)
    if key not in sources:
        raise CatalogError(f"provenance document {key!r} is not one of sources: {', '.join(sorted(sources))}",
                           path=path, where=where)
    document = sources[key]
    return {"provenance": f"{document.title} — {document.publisher}, {document.version}: {locator}{suffix}",
            "source_document": document.title, "source_publisher": document.publisher,
            "source_version": document.version, "source_url": document.url, "source_locator": locator,
            "citation": f"{document.citation}, {locator}"}


def load_directory(directory: str | Path = CATALOG_DIR) -> tuple[list[Catalog], list[Mapping]]:
    """Every framework file (``*.yaml`` except the crosswalk file) and the crosswalks in ``directory``.

    Catalogs come back sorted by file name; framework URNs must be unique.
    """
    directory = Path(directory)
    catalogs = [load_catalog(p) for p in sorted(directory.glob("*.yaml")) if p.name != CROSSWALKS_FILENAME]
    seen: dict[str, str] = {}
    for catalog in catalogs:
        urn = catalog.framework.urn
        if urn in seen:
            raise CatalogError(f"framework {urn!r} is defined twice (also in {seen[urn]})", path=catalog.path)
        seen[urn] = catalog.path
    crosswalk_path = directory / CROSSWALKS_FILENAME
    mappings = load_crosswalks(crosswalk_path, catalogs) if crosswalk_path.exists() else []
    return catalogs, mappings

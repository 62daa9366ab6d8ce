"""Integrity tests for the framework catalogs in governance/catalogs/ and their parser.

Pure pytest: no database, no Django settings needed (the parser never imports Django).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from governance.catalogs.crosswalks import RELATIONSHIPS, THEMES, load_crosswalks, load_directory
from governance.catalogs.schema import CATALOG_DIR, KINDS, Catalog, CatalogError, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[2]
# The project's shared folder lies beside the checkout (as in CI).
# The node tree of the shared EU AI Act extract, copied into the repository (ids and parents only).
SHARED_EU_SOURCE = REPO_ROOT / "tests" / "data" / "eu-ai-act-2024-1689-structure.yaml"

NIST = "urn:anchorage:framework:nist-ai-rmf:1.0"
ISO42001 = "urn:anchorage:framework:iso-iec-42001:2023"
ISO23894 = "urn:anchorage:framework:iso-iec-23894:2023"
EU = "urn:anchorage:framework:eu-ai-act:2024-1689"


@pytest.fixture(scope="module")
def loaded() -> tuple[dict[str, Catalog], list]:
    catalogs, mappings = load_directory(CATALOG_DIR)
    return {c.framework.urn: c for c in catalogs}, mappings


@pytest.fixture(scope="module")
def catalogs(loaded):
    return loaded[0]


@pytest.fixture(scope="module")
def mappings(loaded):
    return loaded[1]


def refs(catalog: Catalog, kind: str) -> list[str]:
    return [r.ref_id for r in catalog.of_kind(kind)]


# ----------------------------------------------------------------------------- files and generic integrity


def test_expected_files_and_frameworks(catalogs):
    names = sorted(p.name for p in CATALOG_DIR.glob("*.yaml"))
    assert names == [
        "crosswalks.yaml",
        "eu-ai-act-2024-1689.yaml",
        "iso-iec-23894-2023.yaml",
        "iso-iec-42001-2023.yaml",
        "nist-ai-rmf-1.0.yaml",
    ]
    assert set(catalogs) == {NIST, ISO42001, ISO23894, EU}
    assert catalogs[NIST].framework.edition == "1.0"
    assert catalogs[NIST].framework.published == dt.date(2023, 1, 26)
    assert catalogs[EU].framework.published == dt.date(2024, 7, 12)
    assert {c.framework.text_policy for c in catalogs.values()} <= {"full", "paraphrase", "ids_and_titles"}


def test_urns_unique_across_all_catalogs(catalogs):
    urns = [r.urn for c in catalogs.values() for r in c.requirements]
    dupes = [u for u, n in Counter(urns).items() if n > 1]
    assert not dupes


def test_ref_ids_unique_within_each_framework(catalogs):
    for catalog in catalogs.values():
        dupes = [r for r, n in Counter(r.ref_id for r in catalog.requirements).items() if n > 1]
        assert not dupes, catalog.framework.urn


def test_every_parent_exists_and_precedes_its_child(catalogs):
    for catalog in catalogs.values():
        position = {r.ref_id: r.order for r in catalog.requirements}
        for r in catalog.requirements:
            if r.parent is None:
                assert r.depth == 0 and r.parent_urn is None
                continue
            assert r.parent in position, (catalog.framework.urn, r.ref_id)
            assert position[r.parent] < r.order
            assert catalog.get(r.parent).urn == r.parent_urn
            assert r.urn.startswith(catalog.framework.urn.replace(":framework:", ":req:") + ":")


def test_kinds_and_text_statuses_are_valid(catalogs):
    for catalog in catalogs.values():
        for r in catalog.requirements:
            assert r.kind in KINDS
            assert (r.text is None) == (r.text_status == "not-available"), r.ref_id
            if catalog.framework.text_policy != "full":
                assert r.text_status != "official", r.ref_id


def test_sha256_is_of_file_bytes(catalogs):
    for catalog in catalogs.values():
        assert catalog.sha256 == hashlib.sha256(Path(catalog.path).read_bytes()).hexdigest()


def test_parser_output_is_frozen(catalogs):
    requirement = catalogs[NIST].get("MEASURE 2.7")
    with pytest.raises(dataclasses.FrozenInstanceError):
        requirement.text = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalogs[NIST].framework.edition = "2.0"  # type: ignore[misc]


def test_schema_module_does_not_import_django():
    code = "import sys, governance.catalogs.crosswalks as c; c.load_directory(); assert 'django' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- NIST AI RMF 1.0


def test_nist_counts(catalogs):
    nist = catalogs[NIST]
    assert refs(nist, "function") == ["GOVERN", "MAP", "MEASURE", "MANAGE"]
    assert len(nist.of_kind("category")) == 19
    assert len(nist.of_kind("subcategory")) == 72
    per_function = Counter(r.ref_id.split()[0] for r in nist.of_kind("subcategory"))
    assert per_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}
    per_function_cats = Counter(r.parent for r in nist.of_kind("category"))
    assert per_function_cats == {"GOVERN": 6, "MAP": 5, "MEASURE": 4, "MANAGE": 4}
    assert len(nist.requirements) == 4 + 19 + 72


def test_nist_text_and_assessable(catalogs):
    nist = catalogs[NIST]
    assert nist.framework.text_policy == "full"
    assert {r.ref_id for r in nist.assessable()} == set(refs(nist, "subcategory"))
    for r in nist.of_kind("subcategory") + nist.of_kind("category"):
        assert r.text_status == "official" and r.text, r.ref_id
    assert nist.get("MEASURE 2.7").text.startswith("AI system security and resilience")
    assert nist.get("MEASURE 2.7").parent == "MEASURE 2"
    assert nist.get("MEASURE 2.7").urn == "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.7"


# ----------------------------------------------------------------------------- ISO/IEC 42001:2023

ISO42001_CLAUSE_LEAVES = [
    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3",
    "6.1.1", "6.1.2", "6.1.3", "6.1.4", "6.2", "6.3",
    "7.1", "7.2", "7.3", "7.4", "7.5.1", "7.5.2", "7.5.3",
    "8.1", "8.2", "8.3", "8.4", "9.1", "9.2.1", "9.2.2", "9.3.1", "9.3.2", "9.3.3", "10.1", "10.2",
]  # fmt: skip


def test_iso42001_clauses(catalogs):
    iso = catalogs[ISO42001]
    assert refs(iso, "clause") == [str(n) for n in range(4, 11)]
    for ref in [*ISO42001_CLAUSE_LEAVES, "6.1", "7.5", "9.2", "9.3"]:
        assert iso.get(ref).kind == "subclause"
    clause_leaves = [r.ref_id for r in iso.assessable() if r.kind == "subclause"]
    assert clause_leaves == ISO42001_CLAUSE_LEAVES  # 32, document order


def test_iso42001_annex_a(catalogs):
    iso = catalogs[ISO42001]
    topics = [r.ref_id for r in iso.children("Annex A")]
    assert topics == [f"A.{n}" for n in range(2, 11)]  # 9 topics
    assert all(iso.get(t).kind == "control-objective" for t in topics)
    assert [r.ref_id for r in iso.children("A.6")] == ["A.6.1", "A.6.2"]  # A.6's two objectives
    controls = iso.of_kind("control")
    assert len(controls) == 38
    per_topic = Counter(".".join(c.ref_id.split(".")[:2]) for c in controls)
    assert per_topic == {
        "A.2": 3, "A.3": 2, "A.4": 5, "A.5": 4, "A.6": 9, "A.7": 5, "A.8": 4, "A.9": 3, "A.10": 3,
    }  # fmt: skip
    assert all(c.assessable and c.title and c.text_status == "paraphrase" for c in controls)
    assert iso.get("A.6.2.4").title == "AI system verification and validation"
    assert iso.framework.text_policy == "paraphrase"
    assert len(iso.assessable()) == 32 + 38


# ----------------------------------------------------------------------------- ISO/IEC 23894:2023


def test_iso23894_structure(catalogs):
    iso = catalogs[ISO23894]
    assert iso.framework.text_policy == "ids_and_titles"
    assert refs(iso, "clause") == ["4", "5", "6"]
    assert [r.ref_id for r in iso.children("5")] == [f"5.{n}" for n in range(1, 8)]
    assert [r.ref_id for r in iso.children("6")] == [f"6.{n}" for n in range(1, 8)]
    assert [r.ref_id for r in iso.children("6.4")] == ["6.4.1", "6.4.2", "6.4.3", "6.4.4"]
    assert refs(iso, "risk-source") == [f"B.{n}" for n in range(2, 9)]
    assert iso.get("B.5").title == "Risk sources related to machine learning"
    assert all(r.text is None and r.text_status == "not-available" and r.title for r in iso.requirements)


# ----------------------------------------------------------------------------- EU AI Act

EU_ARTICLES = ["Art 2", "Art 5", "Art 6"] + [f"Art {n}" for n in range(9, 28)] + [
    "Art 43", "Art 49", "Art 50", "Art 51", "Art 52", "Art 53", "Art 54", "Art 55",
    "Art 72", "Art 73", "Art 111",
]  # fmt: skip
# Nodes the shared pre-publication extract lacks; they come from the OJ or from Regulation (EU) 2026/1744.
EU_NOT_IN_SHARED_SOURCE = ({"Art 2", "Art 16", "Art 111"} | {f"Art {n}" for n in range(18, 26)}
                           | {f"Art {n}" for n in range(51, 56)})
EU_NOT_IN_SHARED_NODES = {"Art 6(7)", "Art 6(8)", "Art 73(7)", "Art 5(1)(ba)", "Art 5(1)(bb)", "Art 5(1a)",
                          "Art 5(1a)(a)", "Art 5(1a)(b)", "Art 5(1b)"}


def test_eu_articles_present(catalogs):
    eu = catalogs[EU]
    assert refs(eu, "article") == EU_ARTICLES
    for article in EU_ARTICLES:
        paragraphs = [r for r in eu.children(article) if r.kind == "paragraph"]
        assert paragraphs or article == "Art 16", article
    assert {r.kind for r in eu.children("Art 16")} == {"point"}  # the OJ's Art 16 has points (a)-(l), no paragraphs
    for ref in ("Art 15(1)", "Art 15(3)", "Art 15(5)", "Art 9(8)", "Art 13(3)(b)(ii)", "Art 14(4)(e)"):
        assert eu.get(ref).assessable, ref
    assert eu.get("Art 15(5)").urn == "urn:anchorage:req:eu-ai-act:2024-1689:art-15-5"


def test_eu_annex_iii(catalogs):
    eu = catalogs[EU]
    areas = eu.children("Annex III")
    assert [a.ref_id for a in areas] == [f"Annex III {n}" for n in range(1, 9)]
    points_per_area = [len(eu.children(a.ref_id)) for a in areas]
    assert points_per_area == [3, 1, 4, 2, 4, 5, 4, 2]
    assert sum(points_per_area) == 25
    assert eu.get("Annex III 5(b)").parent == "Annex III 5"
    assert all(r.kind == "annex-point" for a in areas for r in (a, *eu.children(a.ref_id)))


def test_eu_annex_iv(catalogs):
    eu = catalogs[EU]
    points = eu.children("Annex IV")
    assert [p.ref_id for p in points] == [f"Annex IV {n}" for n in range(1, 10)]
    assert [r.ref_id for r in eu.children("Annex IV 2")][-2:] == ["Annex IV 2(g)", "Annex IV 2(h)"]
    assert len(eu.children("Annex IV 1")) == 8 and len(eu.children("Annex IV 2")) == 8


def test_eu_art_73_7_is_paraphrased_from_the_oj(catalogs):
    r = catalogs[EU].get("Art 73(7)")
    assert r.parent == "Art 73"
    assert r.text_status == "paraphrase" and "Art 77(1)" in r.text and "point (49)(c)" in r.text
    assert "data.europa.eu/eli/reg/2024/1689/oj" in r.notes
    refs_73 = [c.ref_id for c in catalogs[EU].children("Art 73")]
    assert refs_73 == [f"Art 73({n})" for n in range(1, 12)]


def test_eu_text_is_paraphrase_except_listed_corrections(catalogs):
    eu = catalogs[EU]
    assert eu.framework.text_policy == "paraphrase"
    corrected = {r.ref_id for r in eu.requirements if r.text_status == "unofficial-correction"}
    assert corrected == {"Art 14(4)", "Art 73(3)", "Art 73(9)", "Art 73(10)"}
    for ref in corrected:
        r = eu.get(ref)
        assert "eur-lex" in r.notes.lower() and "data.europa.eu/eli/reg/2024/1689/oj" in r.notes
    assert "provided to the deployer" in eu.get("Art 14(4)").text
    for ref in ("Art 73(3)", "Art 73(9)", "Art 73(10)"):
        assert "point (49)" in eu.get(ref).text and "point (44)" not in eu.get(ref).text
    assert eu.get("Art 50").title == "Transparency obligations for providers and deployers of certain AI systems"
    statuses = Counter(r.text_status for r in eu.requirements)
    assert set(statuses) == {"paraphrase", "unofficial-correction"}


def test_eu_application_dates(catalogs):
    eu = catalogs[EU]
    for r in eu.requirements:
        assert r.applies_from is not None and "Art 113" in r.applies_from_source, r.ref_id
    expected = {
        "Art 5(1)(a)": dt.date(2025, 2, 2),
        "Art 50(1)": dt.date(2026, 8, 2),
        "Art 6(1)": dt.date(2028, 8, 2),
        "Art 6(2)": dt.date(2027, 12, 2),
        "Art 9(1)": dt.date(2027, 12, 2),
        "Art 15(5)": dt.date(2027, 12, 2),
        "Annex III 5(b)": dt.date(2027, 12, 2),
        "Annex IV 2(g)": dt.date(2027, 12, 2),
        "Art 43(3)": dt.date(2026, 8, 2),  # Chapter III Section 5: not in the amended Art 113(c) deferral
    }
    for ref, date in expected.items():
        assert eu.get(ref).applies_from == date, ref
    assert "2026/1744" in eu.get("Art 15(5)").applies_from_source
    assert "2026/1744" in eu.get("Art 6(1)").applies_from_source


def article_root(catalog: Catalog, ref_id: str) -> str:
    while catalog.get(ref_id).parent is not None:
        ref_id = catalog.get(ref_id).parent
    return ref_id


def test_eu_ids_follow_the_shared_source():
    source = yaml.safe_load(SHARED_EU_SOURCE.read_text(encoding="utf-8"))
    parent = {n["id"]: n["parent"] for n in source["nodes"]}

    def root(node_id: str) -> str:
        while parent[node_id] is not None:
            node_id = parent[node_id]
        return node_id

    wanted = (set(EU_ARTICLES) - EU_NOT_IN_SHARED_SOURCE) | {"Annex III", "Annex IV"}
    in_scope = {(n["id"], n["parent"]) for n in source["nodes"] if root(n["id"]) in wanted}
    eu = load_catalog(CATALOG_DIR / "eu-ai-act-2024-1689.yaml")
    ours = {(r.ref_id, r.parent) for r in eu.requirements
            if r.ref_id not in EU_NOT_IN_SHARED_NODES and article_root(eu, r.ref_id) not in EU_NOT_IN_SHARED_SOURCE}
    assert ours == in_scope


# ----------------------------------------------------------------------------- crosswalks


def test_crosswalk_ends_exist_and_are_assessable(catalogs, mappings):
    index = {r.urn: r for c in catalogs.values() for r in c.requirements}
    assert len(mappings) == 395
    for m in mappings:
        assert m.source in index and m.target in index
        assert index[m.source].assessable and index[m.target].assessable, (m.source, m.target)
        assert m.relationship in RELATIONSHIPS
        assert m.theme is None or m.theme in THEMES
        assert m.source_framework != m.target_framework
        assert m.rationale.strip() or not m.is_own_mapping
        assert m.provenance.strip()  # what provenance must hold: tests/governance/test_crosswalk_provenance.py


def _linked(mappings, a: str, b: str) -> bool:
    return any({m.source, m.target} == {a, b} for m in mappings)


def test_robustness_evidence_chain(catalogs, mappings):
    nist, iso, eu = catalogs[NIST], catalogs[ISO42001], catalogs[EU]
    a624 = iso.get("A.6.2.4").urn
    measures = [nist.get(f"MEASURE 2.{n}").urn for n in (5, 6, 7)]
    articles = [eu.get(f"Art 15({n})").urn for n in (1, 3, 5)]
    for m in measures:
        assert _linked(mappings, m, a624)
    for art in articles:
        assert _linked(mappings, a624, art)
        assert any(_linked(mappings, m, art) for m in measures)


def test_every_theme_links_nist_iso_annex_a_and_eu(catalogs, mappings):
    by_urn = {r.urn: r for c in catalogs.values() for r in c.requirements}

    def end(urn: str) -> str:
        r = by_urn[urn]
        if r.framework_urn == ISO42001:
            return "iso-annex-a" if r.kind == "control" else "iso-clause"
        return {NIST: "nist", EU: "eu", ISO23894: "iso23894"}[r.framework_urn]

    for theme in THEMES:
        pairs = {frozenset((end(m.source), end(m.target))) for m in mappings if m.theme == theme}
        assert frozenset(("nist", "iso-annex-a")) in pairs, theme
        assert frozenset(("nist", "eu")) in pairs, theme
        assert frozenset(("iso-annex-a", "eu")) in pairs, theme


# ----------------------------------------------------------------------------- the parser rejects bad files


def _catalog_doc() -> dict:
    return {
        "framework": {
            "urn": "urn:anchorage:framework:demo:1.0",
            "slug": "demo",
            "ref_id": "DEMO",
            "name": "Demo framework",
            "edition": "1.0",
            "publisher": "Nobody",
            "published": "2024-01-01",
            "source": "test",
            "licence": "CC0",
            "text_policy": "full",
        },
        "requirements": [
            {"urn": "urn:anchorage:req:demo:1.0:a", "ref_id": "A", "parent": None, "kind": "function",
             "title": "A", "text": "Top.", "text_status": "official", "assessable": False},
            {"urn": "urn:anchorage:req:demo:1.0:a.1", "ref_id": "A.1", "parent": "A", "kind": "subcategory",
             "title": None, "text": "Leaf.", "text_status": "official", "assessable": True},
        ],
    }  # fmt: skip


def _write(tmp_path: Path, doc: dict | str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_catalog_is_valid(tmp_path):
    catalog = load_catalog(_write(tmp_path, _catalog_doc()))
    assert [r.ref_id for r in catalog.requirements] == ["A", "A.1"]
    assert catalog.get("A.1").parent_urn == "urn:anchorage:req:demo:1.0:a"
    assert catalog.framework.published == dt.date(2024, 1, 1)


def _mutated(mutate) -> dict:
    doc = _catalog_doc()
    mutate(doc)
    return doc


BAD_CATALOGS = {
    "duplicate ref_id": (
        lambda d: d["requirements"].append({**d["requirements"][1], "urn": "urn:anchorage:req:demo:1.0:x"}),
        r"duplicate ref_id 'A\.1'",
    ),
    "duplicate urn": (
        lambda d: d["requirements"].append({**d["requirements"][1], "ref_id": "A.2"}),
        r"duplicate urn 'urn:anchorage:req:demo:1\.0:a\.1'",
    ),
    "missing parent": (
        lambda d: d["requirements"][1].update(parent="Z"),
        r"missing parent: no requirement has ref_id 'Z'",
    ),
    "parent after child": (
        lambda d: d["requirements"].reverse(),
        r"parent 'A' appears after its child",
    ),
    "unknown kind": (
        lambda d: d["requirements"][1].update(kind="widget"),
        r"kind 'widget' is invalid",
    ),
    "null text needs not-available": (
        lambda d: d["requirements"][1].update(text=None),
        r"text must be null exactly when text_status is 'not-available'",
    ),
    "official under paraphrase policy": (
        lambda d: d["framework"].update(text_policy="paraphrase"),
        r"text_status 'official' is not allowed under text_policy 'paraphrase'",
    ),
    "unknown key": (
        lambda d: d["requirements"][1].update(colour="red"),
        r"unknown key\(s\): colour",
    ),
    "missing key": (
        lambda d: d["requirements"][1].pop("assessable"),
        r"missing key\(s\): assessable",
    ),
    "assessable not bool": (
        lambda d: d["requirements"][1].update(assessable="yes"),
        r"assessable must be true or false",
    ),
    "urn outside framework": (
        lambda d: d["requirements"][1].update(urn="urn:anchorage:req:other:1.0:a.1"),
        r"must be urn:anchorage:req:demo:1\.0:",
    ),
    "edition not a string": (
        lambda d: d["framework"].update(edition=1.0),
        r"edition must be a non-empty string, got float 1\.0 \(quote it",
    ),
    "applies_from without source": (
        lambda d: d["requirements"][1].update(applies_from="2026-08-02"),
        r"applies_from needs applies_from_source",
    ),
    "bad date": (
        lambda d: d["requirements"][1].update(applies_from="August 2026", applies_from_source="x"),
        r"applies_from must be a date YYYY-MM-DD",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CATALOGS))
def test_bad_catalog_raises(tmp_path, case):
    mutate, message = BAD_CATALOGS[case]
    path = _write(tmp_path, _mutated(mutate))
    with pytest.raises(CatalogError, match=message) as excinfo:
        load_catalog(path)
    assert str(path) in str(excinfo.value)


def test_duplicate_yaml_key_raises(tmp_path):
    text = yaml.safe_dump(_catalog_doc(), sort_keys=False).replace("  text: Leaf.\n", "  text: Leaf.\n  text: Again.\n")
    assert "Again" in text
    with pytest.raises(CatalogError, match="duplicate key 'text'"):
        load_catalog(_write(tmp_path, text))


def test_invalid_yaml_raises(tmp_path):
    with pytest.raises(CatalogError, match="invalid YAML"):
        load_catalog(_write(tmp_path, "framework: [unclosed\n"))


def _crosswalk(tmp_path: Path, rows: list[dict]) -> Path:
    return _write(tmp_path, {"crosswalks": rows}, name="crosswalks.yaml")


def _row(**overrides) -> dict:
    row = {
        "source": "urn:anchorage:req:demo:1.0:a.1",
        "target": "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.7",
        "relationship": "intersects",
        "rationale": "Because.",
        "provenance": {"own": True, "reviewer": "Test reviewer"},
    }
    row.update(overrides)
    return row


@pytest.fixture()
def demo_and_nist(tmp_path, catalogs):
    return [load_catalog(_write(tmp_path, _catalog_doc())), catalogs[NIST]]


def test_valid_crosswalk(tmp_path, demo_and_nist):
    mappings = load_crosswalks(_crosswalk(tmp_path, [_row(theme="accuracy-robustness-cybersecurity")]), demo_and_nist)
    assert len(mappings) == 1
    assert mappings[0].source_framework == "urn:anchorage:framework:demo:1.0"
    assert mappings[0].target_framework == NIST


BAD_CROSSWALKS = {
    "dangling target": (
        [_row(target="urn:anchorage:req:nist-ai-rmf:1.0:measure-9.9")],
        r"target '.*measure-9\.9' does not exist",
    ),
    "dangling source": ([_row(source="urn:anchorage:req:demo:1.0:nope")], r"source '.*demo:1\.0:nope' does not exist"),
    "invalid relationship": ([_row(relationship="intersect")], r"relationship 'intersect' is invalid"),
    "invalid theme": ([_row(theme="vibes")], r"theme 'vibes' is invalid"),
    "same framework": ([_row(target="urn:anchorage:req:demo:1.0:a")], r"crosswalks map between frameworks"),
    "duplicate pair": ([_row(), _row()], r"pair already mapped at crosswalks\[0\] \(same direction\)"),
    "reverse pair": (
        [_row(), _row(source=_row()["target"], target=_row()["source"])],
        r"pair already mapped at crosswalks\[0\] \(reverse direction\)",
    ),
    "blank rationale": ([_row(rationale="  ")], r"rationale must not be blank"),
    "missing provenance": ([{k: v for k, v in _row().items() if k != "provenance"}], r"missing key\(s\): provenance"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CROSSWALKS))
def test_bad_crosswalk_raises(tmp_path, demo_and_nist, case):
    rows, message = BAD_CROSSWALKS[case]
    with pytest.raises(CatalogError, match=message):
        load_crosswalks(_crosswalk(tmp_path, rows), demo_and_nist)


def test_same_framework_loaded_twice_raises(tmp_path, catalogs):
    with pytest.raises(CatalogError, match="loaded twice"):
        load_crosswalks(_crosswalk(tmp_path, []), [catalogs[NIST], catalogs[NIST]])

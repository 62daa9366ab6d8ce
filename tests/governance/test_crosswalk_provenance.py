"""Every crosswalk row says where it comes from: a published crosswalk with a locator, or our own mapping
with a rationale and a reviewer; the two NIST-hosted crosswalks are attributed to their real authors
(issue #13, point 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from governance.catalogs.crosswalks import PROVENANCE_REQUIRED_MESSAGE, Mapping, load_crosswalks, load_directory
from governance.catalogs.schema import CATALOG_DIR, CatalogError, load_catalog

MICROSOFT_42001 = "NIST AI RMF to ISO/IEC FDIS 42001 AI Management system Crosswalk"
NIST_23894 = ("Crosswalk AI RMF (1.0) and ISO/IEC FDIS 23894 Information technology - Artificial intelligence - "
              "Guidance on risk management")
NIST = "urn:anchorage:framework:nist-ai-rmf:1.0"
ISO42001 = "urn:anchorage:framework:iso-iec-42001:2023"
ISO23894 = "urn:anchorage:framework:iso-iec-23894:2023"
EU = "urn:anchorage:framework:eu-ai-act:2024-1689"


@pytest.fixture(scope="module")
def loaded() -> tuple[dict, list[Mapping]]:
    catalogs, mappings = load_directory(CATALOG_DIR)
    index = {r.urn: r for c in catalogs for r in c.requirements}
    return index, mappings


def _between(mapping: Mapping, a: str, b: str) -> bool:
    return {mapping.source_framework, mapping.target_framework} == {a, b}


def test_every_row_cites_a_source_with_a_locator_or_is_an_own_mapping_with_rationale_and_reviewer(loaded):
    _, mappings = loaded
    for m in mappings:
        if m.is_own_mapping:
            assert m.rationale.strip() and m.reviewer.strip(), m
            assert (m.source_document, m.source_locator, m.citation) == ("", "", "Anchorage's own mapping")
            assert m.provenance.startswith(f"Anchorage's own mapping; reviewer: {m.reviewer}")
        else:
            assert m.source_document and m.source_publisher and m.source_version and m.source_locator, m
            assert m.source_url.startswith("https://") and not m.reviewer
            assert m.source_locator in m.provenance and m.source_locator in m.citation


def test_the_42001_crosswalk_is_microsofts_and_the_23894_crosswalk_is_nists(loaded):
    _, mappings = loaded
    sourced = [m for m in mappings if not m.is_own_mapping]
    assert {m.source_document for m in sourced if _between(m, NIST, ISO42001)} == {MICROSOFT_42001}
    assert {m.source_publisher for m in sourced if _between(m, NIST, ISO42001)} == {
        "Microsoft, published on NIST's AIRC crosswalks page"}
    assert {(m.source_document, m.source_publisher, m.source_version) for m in sourced
            if _between(m, NIST, ISO23894)} == {(NIST_23894, "NIST", "draft for comment, 26 January 2023, "
                                                 "against ISO/IEC FDIS 23894")}
    # Nothing else is sourced: NIST's 2023 trustworthiness illustration has no article-level rows to cite.
    assert all(_between(m, NIST, ISO42001) or _between(m, NIST, ISO23894) for m in sourced)
    assert not any("informed by" in m.provenance for m in mappings)


def test_all_280_pairs_of_microsofts_42001_crosswalk_are_rows(loaded):
    index, mappings = loaded
    microsoft = [m for m in mappings if m.source_document == MICROSOFT_42001]
    assert len(microsoft) == 280
    assert len({(m.source, m.target) for m in microsoft}) == 280
    assert {index[m.source].ref_id.split(" ")[0] for m in microsoft} == {"GOVERN", "MAP", "MEASURE", "MANAGE"}
    assert len({m.source for m in microsoft}) == 72  # every subcategory has a row in the source
    assert all(re.fullmatch(r"row (GOVERN|MAP|MEASURE|MANAGE) \d+\.\d+ → .+", m.source_locator) for m in microsoft)
    by_pair = {(index[m.source].ref_id, index[m.target].ref_id): m for m in microsoft}
    # Annex B numbers in the source are the guidance for the Annex A control of the same number.
    assert by_pair[("MEASURE 2.5", "A.6.2.4")].source_locator == "row MEASURE 2.5 → B.6.2.4"
    assert by_pair[("GOVERN 1.1", "4.1")].citation == (
        "Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk, row GOVERN 1.1 → 4.1")
    assert by_pair[("GOVERN 2.1", "7.2")].source_locator == "row GOVERN 2.1 → 72 (sic: clause 7.2 Competence)"
    # The rows that existed before keep their own rationale and type.
    assert by_pair[("MAP 1.5", "6.1.1")].relationship == "subset"
    assert by_pair[("MAP 1.5", "6.1.1")].rationale.startswith("Determining risk tolerance")


def test_a_nist_to_42001_row_that_is_not_in_microsofts_crosswalk_is_an_own_mapping_and_says_so(loaded):
    index, mappings = loaded
    (row,) = [m for m in mappings if (index[m.source].ref_id, index[m.target].ref_id) == ("MEASURE 2.7", "A.6.2.4")]
    assert row.is_own_mapping
    assert "not in Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk, whose row MEASURE 2.7 lists" in row.provenance
    own_nist_42001 = [m for m in mappings if m.is_own_mapping and _between(m, NIST, ISO42001)]
    assert len(own_nist_42001) == 7  # the review's §2.2: 4 neighbouring controls and 3 absent


@pytest.mark.parametrize("article", ["Art 5", "Art 6", "Art 17", "Art 43", "Art 49", "Art 50"])
def test_the_ai_act_article_has_crosswalk_rows_that_are_our_own(loaded, article):
    index, mappings = loaded
    rows = [m for m in mappings
            if any(re.match(rf"{re.escape(article)}\(", index[end].ref_id) for end in (m.source, m.target))]
    assert rows
    assert all(m.is_own_mapping and m.rationale and m.reviewer for m in rows)
    assert {m.relationship for m in rows} == {"intersects"}


# ----------------------------------------------------------------------------- the schema refuses


def _files(tmp_path: Path, provenance: object, *, rationale: str | None = "Because.") -> Path:
    row = {"source": "urn:anchorage:req:nist-ai-rmf:1.0:measure-2.7",
           "target": "urn:anchorage:req:iso-iec-42001:2023:a.6.2.4", "relationship": "intersects",
           "provenance": provenance}
    if rationale is not None:
        row["rationale"] = rationale
    document = {"sources": {"a-crosswalk": {"title": "A crosswalk", "publisher": "Someone", "version": "2023",
                                            "url": "https://example.org/a.pdf", "citation": "Someone's crosswalk"}},
                "crosswalks": [row]}
    path = tmp_path / "crosswalks.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def nist_and_iso() -> list:
    return [load_catalog(CATALOG_DIR / "nist-ai-rmf-1.0.yaml"), load_catalog(CATALOG_DIR / "iso-iec-42001-2023.yaml")]


REFUSED = {
    "empty provenance": ({}, "Because."),
    "free text": ("Anchorage mapping, 2026; informed by a crosswalk", "Because."),
    "a source without a locator": ({"document": "a-crosswalk"}, "Because."),
    "own without a reviewer": ({"own": True}, "Because."),
    "own without a rationale": ({"own": True, "reviewer": "Compliance engineering"}, None),
    "own and a source at once": ({"own": True, "reviewer": "Someone", "document": "a-crosswalk",
                                  "locator": "p. 3"}, "Because."),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_schema_refuses_a_row_without_provenance(tmp_path, nist_and_iso, case):
    provenance, rationale = REFUSED[case]
    path = _files(tmp_path, provenance, rationale=rationale)
    with pytest.raises(CatalogError) as excinfo:
        load_crosswalks(path, nist_and_iso)
    where = ("crosswalks[0] (urn:anchorage:req:nist-ai-rmf:1.0:measure-2.7 -> "
             "urn:anchorage:req:iso-iec-42001:2023:a.6.2.4)")
    assert str(excinfo.value) == f"{path}: {where}: {PROVENANCE_REQUIRED_MESSAGE}"
    assert PROVENANCE_REQUIRED_MESSAGE == (
        "provenance must name a source document with a locator ({document: <key of sources>, locator: <row or page>}) "
        "or be the product's own mapping with a rationale and a reviewer ({own: true, reviewer: <name or role>})")


def test_the_schema_refuses_a_document_that_is_not_among_the_sources(tmp_path, nist_and_iso):
    path = _files(tmp_path, {"document": "elsewhere", "locator": "p. 1"})
    with pytest.raises(CatalogError, match=r"provenance document 'elsewhere' is not one of sources: a-crosswalk$"):
        load_crosswalks(path, nist_and_iso)


def test_a_sourced_row_needs_no_rationale_and_is_described_in_one_line(tmp_path, nist_and_iso):
    (mapping,) = load_crosswalks(_files(tmp_path, {"document": "a-crosswalk", "locator": "p. 3"}, rationale=None),
                                 nist_and_iso)
    assert (mapping.rationale, mapping.is_own_mapping, mapping.source_locator) == ("", False, "p. 3")
    assert mapping.provenance == "A crosswalk — Someone, 2023: p. 3"
    assert mapping.citation == "Someone's crosswalk, p. 3"


# ----------------------------------------------------------------------------- loaded into the database


@pytest.mark.django_db
def test_the_loader_stores_provenance_and_the_api_and_the_requirement_page_show_it(client, alice):
    from django.core.management import call_command
    from django.urls import reverse

    from governance.api.serializers import CrosswalkSerializer
    from governance.models import Crosswalk

    call_command("load_catalogs")
    assert Crosswalk.objects.count() == 395
    row = Crosswalk.objects.get(source__ref_id="MEASURE 2.5", target__ref_id="A.6.2.4")
    assert (row.is_own_mapping, row.source_document, row.source_locator) == (
        False, MICROSOFT_42001, "row MEASURE 2.5 → B.6.2.4")
    data = CrosswalkSerializer(row).data
    assert data["source_publisher"] == "Microsoft, published on NIST's AIRC crosswalks page"
    assert data["citation"] == "Microsoft's AI RMF ↔ ISO/IEC 42001 crosswalk, row MEASURE 2.5 → B.6.2.4"
    own = Crosswalk.objects.get(source__ref_id="MEASURE 2.7", target__ref_id="A.6.2.4")
    assert CrosswalkSerializer(own).data["is_own_mapping"] is True
    assert CrosswalkSerializer(own).data["reviewer"] == (
        "Anchorage engineering, drafted 2026-12; awaiting sign-off by a compliance reviewer")
    client.force_login(alice)
    page = client.get(reverse("governance:requirement-detail", args=[row.source.pk])).content.decode()
    assert '<a href="https://airc.nist.gov/docs/NIST_AI_RMF_to_ISO_IEC_42001_Crosswalk.pdf">' in page
    assert "Microsoft, published on NIST&#x27;s AIRC crosswalks page" in page
    page = client.get(reverse("governance:requirement-detail", args=[own.source.pk])).content.decode()
    assert '<span class="badge">Own mapping</span>' in page
    page = client.get(reverse("governance:framework-detail", args=["iso-iec-42001"])).content.decode()
    assert f"{MICROSOFT_42001}</a> — Microsoft, published on NIST&#x27;s AIRC crosswalks page" in page
    assert ": 280 rows</li>" in page


@pytest.mark.django_db
def test_a_robustness_run_follows_only_the_themed_crosswalks_not_the_imported_pairs():
    from django.core.management import call_command

    from robustness.services.publishing import supported_requirements

    call_command("load_catalogs", verbosity=0)
    refs = {requirement.ref_id for requirement in supported_requirements()}
    assert len(refs) == 18  # as before the 256 untyped pairs arrived
    assert {"MEASURE 2.7", "A.6.2.4", "Art 15(5)"} <= refs
    assert not refs & {"A.2.3", "A.7.2", "A.3.2"}  # Microsoft's row MEASURE 2.7 lists these; no robustness evidence

"""Standards as published: ISO/IEC 42001 titles exactly as printed, ISO/IEC 23894 with its publicly
numbered sub-clauses and Annexes A and C, declared as guidance; and loading the new catalog onto a
database that already holds the old one keeps every existing row (results point at them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import RequirementResult
from assessments.services import assessment_create, requirement_result_update
from governance.applicability_rules import SystemContext, propose
from governance.catalogs.schema import CATALOG_DIR, CatalogError, load_catalog
from governance.models import Crosswalk, Framework, Requirement

ISO42001_FILE = CATALOG_DIR / "iso-iec-42001-2023.yaml"
ISO23894_FILE = CATALOG_DIR / "iso-iec-23894-2023.yaml"

# Review 2026-12-grc §1.2: the 14 titles that were shortened, as published.
ISO42001_PUBLISHED_TITLES = {
    "4.2": "Understanding the needs and expectations of interested parties",
    "7.5.2": "Creating and updating documented information",
    "A.6.2.2": "AI system requirements and specification",
    "A.6.2.3": "Documentation of AI system design and development",
    "A.6.2.4": "AI system verification and validation",
    "A.6.2.5": "AI system deployment",
    "A.6.2.6": "AI system operation and monitoring",
    "A.6.2.7": "AI system technical documentation",
    "A.6.2.8": "AI system recording of event logs",
    "A.7.2": "Data for development and enhancement of AI system",
    "A.7.4": "Quality of data for AI systems",
    "A.8": "Information for interested parties of AI systems",
    "A.9.2": "Processes for responsible use of AI systems",
    "A.9.3": "Objectives for responsible use of AI system",
}

# (ref_id, parent, title) of every node added to ISO/IEC 23894, in document order.
ISO23894_ADDED = [
    ("5.4.1", "5.4", "Understanding the organization and its context"),
    ("5.4.2", "5.4", "Articulating risk management commitment"),
    ("5.4.3", "5.4", "Assigning organizational roles, authorities, responsibilities and accountabilities"),
    ("5.4.4", "5.4", "Allocating resources"),
    ("5.4.5", "5.4", "Establishing communication and consultation"),
    ("5.7.1", "5.7", "Adapting"),
    ("5.7.2", "5.7", "Continually improving"),
    ("6.3.1", "6.3", "General"),
    ("6.3.2", "6.3", "Defining the scope"),
    ("6.3.3", "6.3", "External and internal context"),
    ("6.3.4", "6.3", "Defining risk criteria"),
    ("6.4.2.3", "6.4.2", "Identification of risk sources"),
    ("6.4.2.4", "6.4.2", "Identification of potential events and outcomes"),
    ("6.4.2.5", "6.4.2", "Identification of controls"),
    ("6.4.2.6", "6.4.2", "Identification of consequences"),
    ("6.4.3.2", "6.4.3", "Assessment of consequences"),
    ("6.4.3.3", "6.4.3", "Assessment of likelihood"),
    ("6.5.1", "6.5", "General"),
    ("6.5.2", "6.5", "Selection of risk treatment options"),
    ("6.5.3", "6.5", "Preparing and implementing risk treatment plans"),
    ("Annex A", None, "Objectives"),
    ("Annex C", None, "Risk management and AI system life cycle"),
]
# Nodes whose number and title no public source seen prints; each says how it was inferred (fact_source).
ISO23894_INFERRED = [
    ("6.4.2.1", "6.4.2", "General"),
    ("6.4.2.2", "6.4.2", "Identification of assets and their value"),
    ("6.4.3.1", "6.4.3", "General"),
    ("A.1", "Annex A", "General"),
    ("A.2", "Annex A", "Accountability"),
    ("A.3", "Annex A", "AI expertise"),
    ("A.4", "Annex A", "Availability and quality of training and test data"),
    ("A.5", "Annex A", "Environmental impact"),
    ("A.6", "Annex A", "Fairness"),
    ("A.7", "Annex A", "Maintainability"),
    ("A.8", "Annex A", "Privacy"),
    ("A.9", "Annex A", "Robustness"),
    ("A.10", "Annex A", "Safety"),
    ("A.11", "Annex A", "Security"),
    ("A.12", "Annex A", "Transparency and explainability"),
]
# The 16 sub-clauses NIST's AI RMF ↔ ISO/IEC FDIS 23894 crosswalk prints (review §1.3).
NIST_CROSSWALK_SUBCLAUSES = {
    "5.4.1", "5.4.2", "5.4.3", "5.4.4", "5.4.5", "6.3.2", "6.3.3", "6.3.4",
    "6.4.2.3", "6.4.2.4", "6.4.2.5", "6.4.2.6", "6.4.3.2", "6.4.3.3", "6.5.2", "6.5.3",
}  # fmt: skip
ISO23894_ORIGINAL_URNS = [f"urn:anchorage:req:iso-iec-23894:2023:{tail}" for tail in (
    "4", "5", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "6", "6.1", "6.2", "6.3", "6.4", "6.4.1", "6.4.2",
    "6.4.3", "6.4.4", "6.5", "6.6", "6.7", "annex-b", "b.1", "b.2", "b.3", "b.4", "b.5", "b.6", "b.7", "b.8")]


# ----------------------------------------------------------------------------- ISO/IEC 42001 titles


def test_the_14_iso_42001_titles_read_as_published():
    iso = load_catalog(ISO42001_FILE)
    assert {ref: iso.get(ref).title for ref in ISO42001_PUBLISHED_TITLES} == ISO42001_PUBLISHED_TITLES
    assert len(ISO42001_PUBLISHED_TITLES) == 14


def test_fixing_the_42001_titles_kept_every_urn_and_count():
    iso = load_catalog(ISO42001_FILE)
    assert iso.get("A.6.2.4").urn == "urn:anchorage:req:iso-iec-42001:2023:a.6.2.4"
    assert iso.get("4.2").urn == "urn:anchorage:req:iso-iec-42001:2023:4.2"
    assert len(iso.requirements) == 93 and len(iso.assessable()) == 70
    assert iso.get("A.8.5").title == "Information for interested parties"  # the control, not the topic A.8
    assert iso.framework.assessment_scale == "conformity"


# ----------------------------------------------------------------------------- ISO/IEC 23894 structure


def test_iso_23894_has_its_publicly_numbered_subclauses_and_annexes_a_and_c():
    iso = load_catalog(ISO23894_FILE)
    assert [(ref, iso.get(ref).parent, iso.get(ref).title) for ref, _, _ in ISO23894_ADDED] == ISO23894_ADDED
    assert {ref for ref, _, _ in ISO23894_ADDED} >= NIST_CROSSWALK_SUBCLAUSES
    assert [r.ref_id for r in iso.children("5.4")] == ["5.4.1", "5.4.2", "5.4.3", "5.4.4", "5.4.5"]
    assert [r.ref_id for r in iso.children("6.3")] == ["6.3.1", "6.3.2", "6.3.3", "6.3.4"]
    assert [r.ref_id for r in iso.children("6.4.2")] == ["6.4.2.1", "6.4.2.2", "6.4.2.3", "6.4.2.4", "6.4.2.5",
                                                         "6.4.2.6"]
    assert [r.ref_id for r in iso.children("6.4.3")] == ["6.4.3.1", "6.4.3.2", "6.4.3.3"]
    assert [r.ref_id for r in iso.children("Annex A")] == [f"A.{n}" for n in range(1, 13)]
    assert iso.children("Annex C") == ()
    assert [r.ref_id for r in iso.children("6.5")] == ["6.5.1", "6.5.2", "6.5.3"]
    assert [r.ref_id for r in iso.children(None)] == ["4", "5", "6", "Annex A", "Annex B", "Annex C"]
    assert iso.get("Annex B").title == "Risk sources"
    assert iso.get("6.3.4").urn == "urn:anchorage:req:iso-iec-23894:2023:6.3.4"
    assert iso.get("6.4.2.3").depth == 3
    assert len(iso.requirements) == 67 and len(iso.assessable()) == 41


def test_iso_23894_nodes_no_public_source_numbers_say_they_are_inferred_and_how():
    iso = load_catalog(ISO23894_FILE)
    assert [(ref, iso.get(ref).parent, iso.get(ref).title) for ref, _, _ in ISO23894_INFERRED] == ISO23894_INFERRED
    assert [r.ref_id for r in iso.requirements if r.fact_source] == [ref for ref, _, _ in ISO23894_INFERRED]
    for ref, _, _ in ISO23894_INFERRED:
        source = " ".join(iso.get(ref).fact_source.split())
        assert source.startswith("Number and title inferred, not printed by any public source seen: "), ref
        assert source.endswith("Not verified against a purchased copy."), ref
    assert "6.4.2.3-6.4.2.6, so 6.4.2.1 and 6.4.2.2 exist" in " ".join(iso.get("6.4.2.1").fact_source.split())
    assert "the same list of objectives as ISO/IEC 42001:2023 Annex C" in " ".join(iso.get("A.9").fact_source.split())
    assert [iso.get(ref).assessable for ref in ("6.4.2.1", "6.4.2.2", "6.4.3.1", "A.1", "A.9")] == [
        True, True, True, False, False]
    notes = " ".join(iso.framework.notes.split())
    assert "Inferred, each with its reasoning in fact_source" in notes
    assert "no public source seen numbers anything inside it, so nothing under it is catalogued" in notes


def test_a_report_on_23894_names_its_inferred_provisions_once_in_sources(db):
    from django.template.loader import render_to_string

    from assessments.reporting.sources import inferred_source_note

    call_command("load_catalogs")
    note = inferred_source_note(framework_urn="urn:anchorage:framework:iso-iec-23894:2023")
    assert note["framework"] == "ISO/IEC 23894 (2023)"
    assert note["provisions"] == [ref for ref, _, _ in ISO23894_INFERRED]
    assert "not printed by any public source seen" in note["text"]
    assert inferred_source_note(framework_urn="urn:anchorage:framework:nist-ai-rmf:1.0") is None  # nothing inferred
    assert inferred_source_note(framework_urn="urn:anchorage:framework:eu-ai-act:2024-1689") is None  # its own note
    html = render_to_string("reports/audit_report.html", {"source_notes": [note], "framework": {"name": "x"}})
    assert html.count('id="secondary-sources"') == 1
    assert html.count("not printed by any public source seen") == 1
    assert "Provisions concerned: 6.4.2.1, 6.4.2.2, 6.4.3.1, A.1, A.2," in html


def test_every_added_23894_node_names_its_source_and_keeps_the_text_policy():
    iso = load_catalog(ISO23894_FILE)
    source = " ".join(iso.framework.source.split())
    assert "iTeh Standards preview of ISO/IEC 23894:2023" in source
    assert "NIST's public-domain crosswalk AI RMF 1.0 ↔ ISO/IEC FDIS 23894 (draft for comment, 26 Jan 2023" in source
    for ref, _, _ in ISO23894_ADDED:
        requirement = iso.get(ref)
        notes = " ".join(requirement.notes.split())
        assert requirement.text is None and requirement.text_status == "not-available", ref
        if ref in NIST_CROSSWALK_SUBCLAUSES:
            assert "NIST AI RMF 1.0 ↔ ISO/IEC FDIS 23894 crosswalk" in notes, ref
        else:
            assert "iTeh preview" in notes, ref
    assert iso.framework.text_policy == "ids_and_titles"


def test_iso_23894_is_declared_guidance_and_the_parser_checks_the_scale(tmp_path: Path):
    assert load_catalog(ISO23894_FILE).framework.assessment_scale == "guidance"
    bad = tmp_path / "bad.yaml"
    bad.write_text(ISO23894_FILE.read_text(encoding="utf-8").replace(
        "assessment_scale: guidance", "assessment_scale: advice"), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"assessment_scale 'advice' is invalid; expected one of: conformity, "
                                           r"guidance"):
        load_catalog(bad)


def test_the_applicability_rule_calls_23894_guidance_to_address():
    context = SystemContext(result=None, operator_roles=frozenset({"provider"}))
    applies, why = propose(context, "iso-iec-23894", "6", "6.3.4")
    assert applies is True
    assert why == ("ISO/IEC 23894 is guidance to address, not requirements to comply with: it guides the risk "
                   "process (clause 6) that the risk register follows.")


# ----------------------------------------------------------------------------- loading onto an existing database


def _old_catalog_folder(tmp_path: Path) -> Path:
    """The shipped catalogs with ISO/IEC 23894 as it was before (30 nodes, no scale)."""
    folder = tmp_path / "catalogs"
    shutil.copytree(CATALOG_DIR, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
    text = (ISO23894_FILE.read_text(encoding="utf-8").replace("  assessment_scale: guidance\n", "")
            .replace("  title: Risk sources\n", "  title: AI risk sources\n"))
    blocks = text.split("\n\n- urn: ")
    added = {f"urn:anchorage:req:iso-iec-23894:2023:{ref.lower().replace(' ', '-')}"
             for ref, _, _ in ISO23894_ADDED + ISO23894_INFERRED}
    kept = [blocks[0]] + [b for b in blocks[1:] if b.split("\n", 1)[0] not in added]
    (folder / "iso-iec-23894-2023.yaml").write_text("\n\n- urn: ".join(kept), encoding="utf-8")
    return folder


def test_loading_the_new_23894_onto_the_old_keeps_rows_and_results(tmp_path, acme, member, client_as):
    oscar = member("risk_officer").user
    call_command("load_catalogs", directory=str(_old_catalog_folder(tmp_path)))
    framework = Framework.objects.get(slug="iso-iec-23894")
    assert framework.requirements.count() == 30 and framework.assessment_scale == "conformity"
    before = dict(framework.requirements.values_list("urn", "pk"))
    assert sorted(before) == sorted(ISO23894_ORIGINAL_URNS)
    assert framework.requirements.get(ref_id="Annex B").title == "AI risk sources"
    assessment = assessment_create(organisation=acme, framework=framework, actor=oscar)
    result = assessment.results.get(requirement__ref_id="6.4.2")
    requirement_result_update(result=result, actor=oscar, result_status="partially_compliant",
                              rationale="Risk sources are identified; assets are not yet valued.")
    crosswalks = Crosswalk.objects.count()

    call_command("load_catalogs")

    framework.refresh_from_db()
    assert framework.assessment_scale == "guidance"
    after = dict(framework.requirements.values_list("urn", "pk"))
    assert {urn: after[urn] for urn in before} == before  # same rows, updated in place
    assert len(after) == 67
    result.refresh_from_db()
    assert result.requirement_id == before["urn:anchorage:req:iso-iec-23894:2023:6.4.2"]
    assert result.result == "partially_compliant" and result.requirement.assessable is True
    assert RequirementResult.objects.filter(assessment=assessment).count() == 18  # the old assessment is unchanged
    assert Requirement.objects.get(pk=after["urn:anchorage:req:iso-iec-23894:2023:6.3.4"]).parent.ref_id == "6.3"
    assert Requirement.objects.get(urn="urn:anchorage:req:iso-iec-23894:2023:annex-b").title == "Risk sources"
    assert Crosswalk.objects.count() == crosswalks
    new_assessment = assessment_create(organisation=acme, framework=framework, actor=oscar)
    assert new_assessment.results.count() == 41
    page = client_as("auditor").get(reverse("governance:framework-detail", args=["iso-iec-23894"])).content.decode()
    assert "<dt>Assessment scale</dt><dd>Guidance (addressed / partly addressed / not addressed)</dd>" in page
    assert "Defining risk criteria" in page

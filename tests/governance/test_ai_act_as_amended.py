"""The EU AI Act catalog as amended by Regulation (EU) 2026/1744 (issue #13, point 5).

Exact checks on the loaded catalog: the Art 113 dates (the deferral covers Chapter III Sections 1-3
except Art 6(5); Arts 43, 49, 72, 73 keep the general date), Art 6 with the OJ's 8 paragraphs, Art
73(7) and Art 27(1) from the OJ, the new Art 5 prohibitions and the Art 111(4) grace with their
secondary-source marks, Chapter V (Arts 51-55) and Art 2(2).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from governance.catalogs.schema import CATALOG_DIR, load_catalog
from governance.models.catalog import Requirement as RequirementRow
from governance.services.catalogs import FACT_SOURCE_PREFIX, requirement_notes

GENERAL = dt.date(2026, 8, 2)
ANNEX_III = dt.date(2027, 12, 2)
ANNEX_I = dt.date(2028, 8, 2)
NEW_BANS = dt.date(2026, 12, 2)
GPAI = dt.date(2025, 8, 2)
CONSOLIDATED = "CELEX 02024R1689-20260727"
UNVERIFIED = "not verified against the Official Journal"
ELI = "data.europa.eu/eli/reg/2024/1689/oj"
PFX = "urn:anchorage:req:eu-ai-act:2024-1689:"

NEW_ART_5 = ["Art 5(1)(ba)", "Art 5(1)(bb)", "Art 5(1a)", "Art 5(1a)(a)", "Art 5(1a)(b)", "Art 5(1b)"]
SECONDARY_SOURCE_NODES = [*NEW_ART_5, "Art 5(1)", "Art 50(2)", "Art 111(4)"]


@pytest.fixture(scope="module")
def eu():
    return load_catalog(CATALOG_DIR / "eu-ai-act-2024-1689.yaml")


def test_counts(eu):
    assert len(eu.requirements) == 395
    assert len(eu.assessable()) == 227


# ----------------------------------------------------------------------------- 1. Art 113 dates


def test_only_art_6_5_is_excepted_from_the_section_1_deferral(eu):
    assert eu.get("Art 6(5)").applies_from == GENERAL
    assert "excepted" in eu.get("Art 6(5)").applies_from_source
    for ref in ("Art 6(2)", "Art 6(3)", "Art 6(4)", "Art 6(6)", "Art 6(7)", "Art 6(8)"):
        assert eu.get(ref).applies_from == ANNEX_III, ref
    assert eu.get("Art 6(1)").applies_from == ANNEX_I
    assert eu.get("Art 9(1)").applies_from == ANNEX_III and eu.get("Art 27(1)").applies_from == ANNEX_III


@pytest.mark.parametrize("article", ["Art 43", "Art 49", "Art 72", "Art 73"])
def test_arts_43_49_72_73_keep_the_general_date(eu, article):
    nodes = [r for r in eu.requirements if r.ref_id == article or r.ref_id.startswith(article + "(")]
    assert len(nodes) > 4
    for r in nodes:
        assert r.applies_from == GENERAL, r.ref_id
        source = r.applies_from_source
        assert "general application date (2 August 2026)" in source, r.ref_id
        assert "Chapter III Sections 1-3 (Arts 6-27), except Art 6(5)" in source, r.ref_id
        assert "moved to 2 December 2027" not in source and "moved to 2 August 2028" not in source, r.ref_id
        assert CONSOLIDATED in source and UNVERIFIED in source, r.ref_id


def test_annex_i_paragraphs_of_43_and_73_have_the_general_date_too(eu):
    for ref in ("Art 43(3)", "Art 73(10)"):
        r = eu.get(ref)
        assert r.applies_from == GENERAL
        assert "high-risk only from 2 August 2028" in r.applies_from_source


def test_no_node_outside_chapter_iii_sections_1_to_3_claims_the_deferral(eu):
    section_1_to_3 = {"Art 6"} | {f"Art {n}" for n in range(9, 28)} | {"Annex III", "Annex IV"}
    for r in eu.requirements:
        root = r.ref_id
        while eu.get(root).parent is not None:
            root = eu.get(root).parent
        if r.applies_from in (ANNEX_III, ANNEX_I):
            assert root in section_1_to_3, r.ref_id


# ----------------------------------------------------------------------------- 2. OJ structure and text


def test_art_6_has_the_ojs_eight_paragraphs(eu):
    assert [r.ref_id for r in eu.children("Art 6")] == [f"Art 6({n})" for n in range(1, 9)]
    assert eu.get("Art 6(6)").urn == PFX + "art-6-6"
    assert eu.get("Art 6(7)").urn == PFX + "art-6-7" and eu.get("Art 6(8)").urn == PFX + "art-6-8"
    assert "add to or modify" in eu.get("Art 6(6)").text
    assert "deleting" in eu.get("Art 6(7)").text
    assert "lower the overall level of protection" in eu.get("Art 6(8)").text and "Art 7(1)" in eu.get("Art 6(8)").text
    for ref in ("Art 6(6)", "Art 6(7)", "Art 6(8)"):
        assert ELI in eu.get(ref).notes and "merged" in eu.get(ref).notes


def test_art_73_7_is_filled_from_the_oj(eu):
    r = eu.get("Art 73(7)")
    assert r.urn == PFX + "art-73-7" and r.text_status == "paraphrase"
    assert "point (49)(c)" in r.text and "Art 77(1)" in r.text and "guidance" in r.text
    assert ELI in r.notes and "text not available" not in r.notes
    assert not any(x.text_status == "not-available" for x in eu.requirements)


def test_art_27_1_excludes_annex_iii_point_2_deployers(eu):
    r = eu.get("Art 27(1)")
    assert "except one intended for Annex III point 2 (critical infrastructure)" in r.text
    assert "Annex III 5(b)/(c)" in r.text and ELI in r.notes


# ----------------------------------------------------------------------------- 3. 2026/1744 text


def test_new_art_5_prohibitions(eu):
    assert [r.ref_id for r in eu.children("Art 5(1)")][:3] == ["Art 5(1)(a)", "Art 5(1)(b)", "Art 5(1)(ba)"]
    assert [r.ref_id for r in eu.children("Art 5(1)")][3] == "Art 5(1)(bb)"
    children_5 = [r.ref_id for r in eu.children("Art 5")]
    assert children_5[:3] == ["Art 5(1)", "Art 5(1a)", "Art 5(1b)"]
    assert [r.ref_id for r in eu.children("Art 5(1a)")] == ["Art 5(1a)(a)", "Art 5(1a)(b)"]
    assert eu.get("Art 5(1)(ba)").urn == PFX + "art-5-1-ba" and eu.get("Art 5(1a)").urn == PFX + "art-5-1a"
    assert "nudification" in eu.get("Art 5(1)(ba)").text and "consent" in eu.get("Art 5(1)(ba)").text
    assert "Directive 2011/93/EU" in eu.get("Art 5(1)(bb)").text
    assert "deployer" in eu.get("Art 5(1a)(b)").text and "intended purpose" in eu.get("Art 5(1a)(a)").text
    assert eu.get("Art 5(1)(ba)").assessable and eu.get("Art 5(1)(bb)").assessable
    assert not any(eu.get(ref).assessable for ref in ("Art 5(1a)", "Art 5(1a)(a)", "Art 5(1a)(b)", "Art 5(1b)"))
    for ref in NEW_ART_5:
        r = eu.get(ref)
        assert r.applies_from == NEW_BANS, ref
        assert "Art 113, point (a) as amended by Regulation (EU) 2026/1744" in r.applies_from_source, ref
        assert r.text_status == "paraphrase", ref
    assert eu.get("Art 5(1)(a)").applies_from == dt.date(2025, 2, 2)


def test_art_50_2_grace_under_art_111_4(eu):
    r = eu.get("Art 111(4)")
    assert r.parent == "Art 111" and r.urn == PFX + "art-111-4" and not r.assessable
    assert r.applies_from == NEW_BANS
    assert "Art 50(2)" in r.text and "before 2 August 2026" in r.text and "2 December 2026" in r.text
    art_50_2 = eu.get("Art 50(2)")
    assert art_50_2.applies_from == GENERAL
    assert "Art 111(4)" in art_50_2.applies_from_source and "2 December 2026" in art_50_2.applies_from_source


@pytest.mark.parametrize("ref", SECONDARY_SOURCE_NODES)
def test_secondary_source_marks(eu, ref):
    r = eu.get(ref)
    assert r.fact_source is not None, ref
    assert CONSOLIDATED in r.fact_source and "third-party transcription" in r.fact_source, ref
    assert UNVERIFIED in r.fact_source, ref


def test_only_2026_1744_text_carries_a_fact_source(eu):
    assert {r.ref_id for r in eu.requirements if r.fact_source} == set(SECONDARY_SOURCE_NODES)
    assert '"nudification"' in eu.get("Art 5(1)(ba)").fact_source


# ----------------------------------------------------------------------------- 4. Chapter V and Art 2(2)


def test_chapter_v_gpai(eu):
    expected = {
        "Art 51": ["Art 51(1)", "Art 51(2)", "Art 51(3)"],
        "Art 51(1)": ["Art 51(1)(a)", "Art 51(1)(b)"],
        "Art 52": [f"Art 52({n})" for n in range(1, 7)],
        "Art 53": [f"Art 53({n})" for n in range(1, 8)],
        "Art 53(1)": [f"Art 53(1)({p})" for p in "abcd"],
        "Art 54": [f"Art 54({n})" for n in range(1, 7)],
        "Art 55": ["Art 55(1)", "Art 55(2)", "Art 55(3)"],
        "Art 55(1)": [f"Art 55(1)({p})" for p in "abcd"],
    }
    for parent, children in expected.items():
        assert [r.ref_id for r in eu.children(parent)] == children, parent
    gpai = [r for r in eu.requirements if r.ref_id.split("(")[0] in {f"Art {n}" for n in range(51, 56)}]
    assert len(gpai) == 40
    for r in gpai:
        assert r.applies_from == GPAI and "Art 113, point (b)" in r.applies_from_source, r.ref_id
        assert ELI in r.notes and r.text_status == "paraphrase" and r.fact_source is None, r.ref_id
    assert "10^25" in eu.get("Art 51(2)").text and "FLOPs" in eu.get("Art 51(2)").text
    assert "presumed" in eu.get("Art 51(2)").text
    assert "Annex XIII" in eu.get("Art 51(1)(b)").text
    assert "two weeks" in eu.get("Art 52(1)").text
    assert "Annex XI" in eu.get("Art 53(1)(a)").text and "Annex XII" in eu.get("Art 53(1)(b)").text
    assert "Directive (EU) 2019/790" in eu.get("Art 53(1)(c)").text
    assert "summary" in eu.get("Art 53(1)(d)").text
    text_53_2 = eu.get("Art 53(2)").text
    assert "open-source" in text_53_2 and "(a) and (b)" in text_53_2 and "systemic risk" in text_53_2
    assert "adversarial testing" in eu.get("Art 55(1)(a)").text
    assert "serious incidents" in eu.get("Art 55(1)(c)").text and "cybersecurity" in eu.get("Art 55(1)(d)").text
    assert eu.get("Art 53(1)(a)").urn == PFX + "art-53-1-a" and eu.get("Art 51(2)").urn == PFX + "art-51-2"
    assessable = {r.ref_id for r in gpai if r.assessable}
    assert assessable == {"Art 52(1)", "Art 53(1)(a)", "Art 53(1)(b)", "Art 53(1)(c)", "Art 53(1)(d)", "Art 53(3)",
                          "Art 54(1)", "Art 54(2)", "Art 55(1)(a)", "Art 55(1)(b)", "Art 55(1)(c)", "Art 55(1)(d)"}


def test_chapter_iii_section_3_duties_of_providers_importers_distributors_and_the_value_chain(eu):
    expected = {
        "Art 16": [f"Art 16({p})" for p in "abcdefghijkl"],
        "Art 18": ["Art 18(1)", "Art 18(2)", "Art 18(3)"],
        "Art 18(1)": [f"Art 18(1)({p})" for p in "abcde"],
        "Art 19": ["Art 19(1)", "Art 19(2)"],
        "Art 20": ["Art 20(1)", "Art 20(2)"],
        "Art 21": ["Art 21(1)", "Art 21(2)", "Art 21(3)"],
        "Art 22": [f"Art 22({n})" for n in range(1, 5)],
        "Art 23": [f"Art 23({n})" for n in range(1, 8)],
        "Art 23(1)": [f"Art 23(1)({p})" for p in "abcd"],
        "Art 24": [f"Art 24({n})" for n in range(1, 7)],
        "Art 25": [f"Art 25({n})" for n in range(1, 6)],
        "Art 25(1)": [f"Art 25(1)({p})" for p in "abc"],
    }
    for parent, children in expected.items():
        assert [r.ref_id for r in eu.children(parent)] == children, parent
    articles = {"Art 16"} | {f"Art {n}" for n in range(18, 26)}
    section_3 = [r for r in eu.requirements if r.ref_id.split("(")[0] in articles]
    assert len(section_3) == 65
    for r in section_3:
        assert r.applies_from == ANNEX_III and r.urn == PFX + r.ref_id.lower().replace("art ", "art-").replace(
            ")(", "-").replace("(", "-").replace(")", ""), r.ref_id
        assert ELI in r.notes and "aicomply-dev/aicomply @ dbcedff" in r.notes and r.fact_source is None, r.ref_id
    assert all("2026/1744 amended Art 25" in r.notes for r in section_3 if r.ref_id.startswith("Art 25"))
    # Duties of Member States, authorities and the authorised representative are not the operator's to assess.
    assert not {r.ref_id for r in section_3 if r.assessable} & {"Art 18(2)", "Art 21(3)", "Art 22(3)", "Art 22(4)",
                                                                 "Art 25(5)"}
    assert "10 years" in eu.get("Art 18(1)").text and "six months" in eu.get("Art 19(1)").text
    assert "Art 22(1)" in eu.get("Art 23(1)(d)").text and "Art 23(3)" in eu.get("Art 24(1)").text
    assert "Annex I Section A" in eu.get("Art 25(3)").text and "written agreement" in eu.get("Art 25(4)").text


def test_art_2_2_annex_i_section_b(eu):
    r = eu.get("Art 2(2)")
    assert r.parent == "Art 2" and r.urn == PFX + "art-2-2" and r.kind == "paragraph" and not r.assessable
    assert eu.requirements[0].ref_id == "Art 2"
    for term in ("Annex I Section B", "Art 6(1)", "Arts 102 to 109", "Art 112", "Art 57"):
        assert term in r.text, term
    assert r.applies_from == dt.date(2025, 2, 2) and ELI in r.notes


# ----------------------------------------------------------------------------- loader keeps fact_source


def test_requirement_notes_append_the_fact_source(eu):
    notes = requirement_notes(eu.get("Art 5(1)(ba)"))
    assert notes.startswith(FACT_SOURCE_PREFIX) and CONSOLIDATED in notes
    assert requirement_notes(eu.get("Art 9(1)")) == (eu.get("Art 9(1)").notes or "")
    both = requirement_notes(eu.get("Art 6(6)"))
    assert both == eu.get("Art 6(6)").notes


def test_loaded_rows_keep_the_fact_source_in_notes(db):
    call_command("load_catalogs")
    row = RequirementRow.objects.get(framework__slug="eu-ai-act", ref_id="Art 5(1)(ba)")
    assert row.notes.startswith(FACT_SOURCE_PREFIX) and CONSOLIDATED in row.notes and UNVERIFIED in row.notes
    assert row.applies_from == NEW_BANS
    assert RequirementRow.objects.get(framework__slug="eu-ai-act", ref_id="Art 43(1)").applies_from == GENERAL


# ----------------------------------------------------------------------------- 5. the report says it once

HEDGED = ("High-risk obligations for Annex III systems: Art 113 general date 2 August 2026, moved to 2 December 2027 "
          "by Regulation (EU) 2026/1744 (Digital Omnibus on AI, OJ 24.7.2026) as reported by secondary sources (not "
          "yet checked against the OJ text); for Annex I-linked systems (Art 6(1)) the date is 2 August 2028.")


def test_without_hedge_points_to_the_one_note(eu):
    from assessments.reporting.sources import POINTER, without_hedge

    assert without_hedge(HEDGED) == (
        "High-risk obligations for Annex III systems: Art 113 general date 2 August 2026, moved to 2 December 2027 "
        "by Regulation (EU) 2026/1744 (Digital Omnibus on AI, OJ 24.7.2026); for Annex I-linked systems (Art 6(1)) "
        "the date is 2 August 2028" + POINTER + ".")
    omnibus = ("Art 113 set 2 August 2026; moved to 2 December 2027 by Regulation (EU) 2026/1744 (Digital Omnibus "
               "on AI, OJ 24.7.2026; secondary sources, verify against the OJ)")
    assert without_hedge(omnibus) == ("Art 113 set 2 August 2026; moved to 2 December 2027 by Regulation (EU) "
                                      "2026/1744 (Digital Omnibus on AI, OJ 24.7.2026)" + POINTER + ".")
    for ref in ("Art 5(1)(ba)", "Art 43(1)", "Art 111(4)"):
        stripped = without_hedge(eu.get(ref).applies_from_source)
        assert CONSOLIDATED not in stripped and UNVERIFIED not in stripped and stripped.endswith(POINTER + "."), ref
    assert without_hedge("Art 113 general application date (2 August 2026).") == (
        "Art 113 general application date (2 August 2026).")


def test_the_report_note_lists_the_affected_provisions_once(db):
    from django.template.loader import render_to_string

    from assessments.reporting.sources import secondary_source_note

    call_command("load_catalogs")
    assert secondary_source_note(framework_urn="urn:anchorage:framework:nist-ai-rmf:1.0", classified=False) is None
    note = secondary_source_note(framework_urn="urn:anchorage:framework:eu-ai-act:2024-1689",
                                 classified=False)
    assert note == secondary_source_note(framework_urn="urn:anchorage:framework:nist-ai-rmf:1.0", classified=True)
    assert note["provisions"] == ["Art 5(1)", "Art 5(1)(ba)", "Art 5(1)(bb)", "Art 5(1a)", "Art 5(1a)(a)",
                                  "Art 5(1a)(b)", "Art 5(1b)", "Art 50(2)", "Art 111(4)"]
    assert CONSOLIDATED in note["text"] and "not yet verified against the Official Journal" in note["text"]
    html = render_to_string("reports/audit_report.html", {"source_notes": [note], "framework": {"name": "x"}})
    assert html.count('id="secondary-sources"') == 1
    assert html.count("CELEX 02024R1689-20260727") == 1
    assert "Art 5(1)(ba), Art 5(1)(bb)" in html

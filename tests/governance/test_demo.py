"""The demo organisation gets a classified high-risk system, a control and a risk, once."""

from __future__ import annotations

from django.core.management import call_command

from governance.models import AISystem, ApplicabilityDecision, Control, Requirement, Risk


def test_demo_setup_registers_a_governed_system_idempotently(db, capsys):
    call_command("load_catalogs")
    call_command("demo_setup")
    call_command("demo_setup")
    system = AISystem.objects.get(organisation__slug="demo")
    assert system.classification.result == "high_risk_annex_iii"
    assert Control.objects.get(organisation__slug="demo").requirements.count() == 3
    assert Risk.objects.filter(ai_system=system).count() == 1
    # One decision per assessable requirement: EU AI Act, ISO/IEC 42001, NIST AI RMF, ISO/IEC 23894.
    # (Counted from the catalogs: the EU AI Act catalog grows as chapters are added.)
    assert ApplicabilityDecision.objects.filter(ai_system=system).count() == \
        Requirement.objects.filter(assessable=True).count()
    assert {row.requirement.framework.slug for row in system.applicability_decisions.select_related(
        "requirement__framework")} == {"eu-ai-act", "iso-iec-42001", "nist-ai-rmf", "iso-iec-23894"}
    assert system.operator_roles == ["provider", "deployer"]
    call_command("verify_audit_trail")
    assert "intact" in capsys.readouterr().out

"""The audit trail: written by every service, readable and filterable, tamper-evident."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from governance import services
from governance.models import AuditEvent, Role
from tests.governance.conftest import SYSTEM_DATA


def _events(organisation) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(organisation=organisation).order_by("sequence"))


def test_an_intact_trail_verifies(world, capsys):
    call_command("verify_audit_trail")
    assert "intact" in capsys.readouterr().out


def test_editing_an_events_changes_is_detected(world, acme):
    event = _events(acme)[3]
    AuditEvent.objects.filter(pk=event.pk).update(changes={"name": ["CV screener", "Something else"]})
    with pytest.raises(CommandError, match="verification failed"):
        call_command("verify_audit_trail", organisation="acme")


def test_deleting_a_middle_event_is_detected(world, acme):
    AuditEvent.objects.filter(pk=_events(acme)[4].pk).delete()
    with pytest.raises(CommandError):
        call_command("verify_audit_trail")


def test_deleting_the_newest_event_is_detected(world, acme):
    AuditEvent.objects.filter(pk=_events(acme)[-1].pk).delete()
    with pytest.raises(CommandError):
        call_command("verify_audit_trail")


def test_every_registry_write_is_recorded_with_actor_and_change(world, acme, alice):
    recorded = {(event.object_type, event.action) for event in _events(acme)}
    for object_type in ("governance.AISystem", "governance.EUAIActClassification", "governance.ModelVersion",
                        "governance.TrainingObjectiveCard", "governance.Dataset", "governance.Control",
                        "governance.Risk", "governance.ApplicabilityDecision"):
        assert any(kind == object_type for kind, _ in recorded), object_type
    services.ai_system_update(ai_system=world.system, actor=alice, data={"business_owner": "Head of HR"})
    newest = _events(acme)[-1]
    assert (newest.action, newest.actor_label) == ("update", "alice")
    assert newest.changes == {"business_owner": ["", "Head of HR"]}
    services.control_delete(control=world.control, actor=alice)
    newest = _events(acme)[-1]
    assert newest.action == "delete" and newest.changes["requirements"] == [world.requirement.pk]


def test_a_refused_write_records_nothing(world, acme, alice):
    count = AuditEvent.objects.filter(organisation=acme).count()
    with pytest.raises(ValidationError):
        services.ai_system_create(organisation=acme, actor=alice, data={**SYSTEM_DATA, "name": "CV screener"})
    with pytest.raises(ValidationError):
        services.risk_update(risk=world.risk, actor=alice, data={"likelihood": 9})
    assert AuditEvent.objects.filter(organisation=acme).count() == count


@pytest.mark.parametrize("caller", [role.value for role in Role])
def test_every_member_role_reads_and_filters_the_trail(world, client_as, caller):
    client = client_as(caller)
    page = client.get(reverse("governance:audit-list"), {"object_type": "governance.Risk", "action": "create"})
    assert page.status_code == 200
    assert "Evasion attacks" in page.content.decode() and "CV screener</div>" not in page.content.decode()
    api = client.get("/api/v1/audit-events/", {"object_type": "governance.Risk"}).json()
    assert [row["object_repr"] for row in api["results"]] == ["Evasion attacks"]
    assert client.get("/api/v1/audit-events/", {"actor": "nobody"}).json()["count"] == 0


def test_deleting_a_system_records_what_goes_with_it(world, acme, alice):
    first_new = _events(acme)[-1].sequence + 1
    services.ai_system_delete(ai_system=world.system, actor=alice)
    recorded = [(event.action, event.object_type) for event in _events(acme) if event.sequence >= first_new]
    assert ("delete", "governance.TrainingObjectiveCard") in recorded
    assert ("delete", "governance.ModelVersion") in recorded
    assert ("delete", "governance.EUAIActClassification") in recorded
    assert ("update", "governance.Dataset") in recorded and ("update", "governance.Risk") in recorded
    assert recorded[-1] == ("delete", "governance.AISystem")
    world.risk.refresh_from_db()
    assert world.risk.ai_system is None
    call_command("verify_audit_trail")

"""The "nothing changed on denial" fingerprint sees a change to any column of any row."""

from __future__ import annotations

from governance.models import Membership
from governance.models.tenancy import Role
from tests.security.harness import fingerprint


def test_the_fingerprint_sees_a_role_change_on_a_row_without_a_change_time(acme):
    membership = Membership.objects.filter(organisation=acme).exclude(role=Role.AUDITOR).first()
    assert not any(field.name == "updated_at" for field in Membership._meta.fields)
    before = fingerprint()
    assert fingerprint() == before  # reading changes nothing
    Membership.objects.filter(pk=membership.pk).update(role=Role.AUDITOR)
    after = fingerprint()
    assert after != before
    assert sum(a != b for a, b in zip(after, before, strict=True)) == 1  # exactly the memberships table

"""Governance writes (HackSoft style: `<entity>_<action>`, keyword-only, audited)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.text import slugify

from governance.audit import audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.tenancy import Membership, Organisation, Role

User = get_user_model()


@transaction.atomic
def organisation_create(*, name: str, slug: str = "", actor: AbstractBaseUser | None) -> Organisation:
    organisation = Organisation.objects.create(name=name, slug=slug or slugify(name)[:80])
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE,
                       instance=organisation, changes=audit_snapshot(organisation))
    return organisation


@transaction.atomic
def membership_create(*, organisation: Organisation, user: AbstractBaseUser, role: Role | str,
                      actor: AbstractBaseUser | None) -> Membership:
    membership = Membership.objects.create(organisation=organisation, user=user, role=Role(role))
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE,
                       instance=membership, changes=audit_snapshot(membership))
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, role: Role | str, actor: AbstractBaseUser | None) -> Membership:
    before = audit_snapshot(membership)
    membership.role = Role(role)
    membership.save(update_fields=["role"])
    audit_event_record(organisation=membership.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=membership, changes=audit_diff(before, audit_snapshot(membership)))
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: AbstractBaseUser | None) -> None:
    audit_event_record(organisation=membership.organisation, actor=actor, action=AuditAction.DELETE,
                       instance=membership, changes=audit_snapshot(membership))
    membership.delete()


@transaction.atomic
def user_with_membership_ensure(*, organisation: Organisation, username: str, password: str, role: Role | str,
                                email: str = "", actor: AbstractBaseUser | None = None) -> AbstractBaseUser:
    """Create the user if missing and give them `role` in `organisation` (demo and set-up)."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership = Membership.objects.filter(organisation=organisation, user=user).first()
    if membership is None:
        membership_create(organisation=organisation, user=user, role=role, actor=actor)
    elif membership.role != role:
        membership_update(membership=membership, role=role, actor=actor)
    return user

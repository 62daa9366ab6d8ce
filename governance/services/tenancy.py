"""Organisations and memberships (HackSoft style: `<entity>_<action>`, keyword-only, audited)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import slugify

from governance.audit import Actor, audit_diff, audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.risks import Risk
from governance.models.tenancy import Membership, Organisation, Role


@transaction.atomic
def organisation_create(*, name: str, slug: str = "", actor: Actor) -> Organisation:
    organisation = Organisation.objects.create(name=name, slug=slug or slugify(name)[:80])
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE,
                       instance=organisation, changes=audit_snapshot(organisation))
    return organisation


@transaction.atomic
def membership_create(*, organisation: Organisation, user: User, role: Role | str,
                      actor: Actor) -> Membership:
    membership = Membership.objects.create(organisation=organisation, user=user, role=Role(role))
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE,
                       instance=membership, changes=audit_snapshot(membership))
    return membership


def _last_admin_check(membership: Membership, *, new_role: Role | None) -> None:
    """An organisation always keeps one admin, or nobody could manage its members again."""
    if membership.role != Role.ORG_ADMIN or new_role == Role.ORG_ADMIN:
        return
    others = Membership.objects.filter(organisation=membership.organisation, role=Role.ORG_ADMIN) \
        .exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError("The organisation needs at least one organisation admin.")


@transaction.atomic
def membership_add(*, organisation: Organisation, username: str, role: Role | str,
                   actor: Actor) -> Membership:
    """An org admin adds an existing account (by username or e-mail) to the organisation."""
    username = User.normalize_username(username.strip())
    user = User.objects.filter(username=username).first() or \
        User.objects.filter(email__iexact=username).exclude(email="").first()
    if user is None:
        raise ValidationError({"username": "No account with this username or e-mail exists."})
    if Membership.objects.filter(organisation=organisation, user=user).exists():
        raise ValidationError({"username": "This person is already a member."})
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    return membership_create(organisation=organisation, user=user, role=role, actor=actor)


@transaction.atomic
def membership_update(*, membership: Membership, role: Role | str, actor: Actor) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles."})
    _last_admin_check(membership, new_role=Role(role))
    before = audit_snapshot(membership)
    membership.role = Role(role)
    membership.save(update_fields=["role"])
    audit_event_record(organisation=membership.organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=membership, changes=audit_diff(before, audit_snapshot(membership)))
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership, actor: Actor) -> None:
    _last_admin_check(membership, new_role=None)
    audit_event_record(organisation=membership.organisation, actor=actor, action=AuditAction.DELETE,
                       instance=membership, changes=audit_snapshot(membership))
    membership.delete()


@transaction.atomic
def user_with_membership_ensure(*, organisation: Organisation, username: str, password: str, role: Role | str,
                                email: str = "", actor: Actor = None) -> User:
    """Create the user if missing and give them `role` in `organisation` (demo and set-up).

    The name is NFKC-normalised as Django's forms do, and refused if an account differing only
    in case exists already (the login throttle counts case-folded names as one).
    """
    username = User.normalize_username(username.strip())
    user = User.objects.filter(username=username).first()
    if user is None:
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": "An account with this username, in other letter case, exists."})
        user = User.objects.create(username=username, email=email)
        user.set_password(password)
        user.save(update_fields=["password"])
    membership = Membership.objects.filter(organisation=organisation, user=user).first()
    if membership is None:
        membership_create(organisation=organisation, user=user, role=role, actor=actor)
    elif membership.role != role:
        membership_update(membership=membership, role=role, actor=actor)
    return user


@transaction.atomic
def organisation_risk_matrix_update(*, organisation: Organisation, likelihood: list[str], impact: list[str],
                                    actor: Actor) -> Organisation:
    """Relabel or resize the scales (3 to 7 levels each) that risks are scored on."""
    for name, labels in (("likelihood", likelihood), ("impact", impact)):
        labels[:] = [label.strip() for label in labels if label.strip()]
        if not 3 <= len(labels) <= 7:
            raise ValidationError({name: "Give 3 to 7 levels, lowest first."})
    too_high = Risk.objects.filter(organisation=organisation).filter(
        models.Q(likelihood__gt=len(likelihood)) | models.Q(impact__gt=len(impact))
        | models.Q(residual_likelihood__gt=len(likelihood)) | models.Q(residual_impact__gt=len(impact)))
    if too_high.exists():
        raise ValidationError("Some risks are scored above the new scales; rescore them first.")
    before = audit_snapshot(organisation)
    organisation.risk_matrix = {"likelihood": likelihood, "impact": impact}
    organisation.save(update_fields=["risk_matrix"])
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.UPDATE,
                       instance=organisation, changes=audit_diff(before, audit_snapshot(organisation)))
    return organisation

"""Evidence writes: create, add an immutable hashed version, attach, expire."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone

from assessments.models import AssessmentStatus, Evidence, EvidenceAnnotation, EvidenceStatus, EvidenceVersion
from assessments.models.assessments import RequirementResult
from assessments.models.evidence import EvidenceKind, EvidenceSource
from assessments.services.common import (
    Actor,
    ConflictError,
    ServiceError,
    actor_assert_may,
    same_organisation,
    user_or_none,
)
from governance.audit import audit_event_record, audit_snapshot
from governance.models.audit import AuditAction
from governance.models.catalog import Requirement
from governance.models.registry import AISystem
from governance.models.tenancy import Organisation
from governance.permissions import Permission

_CHUNK = 1024 * 1024


@transaction.atomic
def evidence_create(*, organisation: Organisation, title: str, kind: str, actor: Actor,
                    ai_system: AISystem | None = None, requirements: Iterable[Requirement] = ()) -> Evidence:
    if ai_system is not None:
        same_organisation(organisation, [ai_system], "The AI system")
    evidence = Evidence.objects.create(organisation=organisation, title=title.strip() or "Untitled evidence",
                                       kind=EvidenceKind(kind), ai_system=ai_system, created_by=user_or_none(actor))
    requirements = list(requirements)
    if requirements:
        evidence.requirements.set(requirements)
    audit_event_record(organisation=organisation, actor=actor, action=AuditAction.CREATE, instance=evidence,
                       changes={**audit_snapshot(evidence), "requirements": [r.pk for r in requirements]})
    return evidence


class MachineEvidenceError(ConflictError):
    """Evidence a robustness run produced gets versions only from runs; the API answers 409."""


def evidence_is_machine_made(evidence: Evidence) -> bool:
    """Made by a robustness run: it holds a version whose source is a run."""
    return evidence.versions.filter(source=EvidenceSource.ROBUSTNESS_RUN).exists()


MAX_ANNOTATION_CHARS = 5000


@transaction.atomic
def evidence_annotation_add(*, evidence: Evidence, text: str, actor: Actor) -> EvidenceAnnotation:
    """A person's note beside the evidence (machine evidence included); the evidence and its versions stay."""
    user = actor_assert_may(actor, organisation_id=evidence.organisation_id, action=Permission.EDIT_ASSESSMENTS,
                            refusal="Only an org admin, risk officer or consultant of the organisation may "
                                    "annotate evidence.")
    text = (text or "").strip()
    if not text:
        raise ServiceError("The annotation is empty: write what you want to say about this evidence.")
    if len(text) > MAX_ANNOTATION_CHARS:
        raise ServiceError(f"The annotation is {len(text)} characters long; at most {MAX_ANNOTATION_CHARS} "
                           "are allowed.")
    annotation = EvidenceAnnotation.objects.create(organisation_id=evidence.organisation_id, evidence=evidence,
                                                   text=text, created_by=user)
    audit_event_record(organisation=evidence.organisation, actor=actor, action=AuditAction.CREATE,
                       instance=annotation, changes={"evidence": evidence.pk, "text": text})
    return annotation


def file_sha256(file: File) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks (uploads can be large)."""
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in file.chunks(_CHUNK) if hasattr(file, "chunks") else iter(lambda: file.read(_CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def evidence_version_add(*, evidence: Evidence, actor: Actor, file: File | None = None, content: bytes | None = None,
                         filename: str = "", url: str = "", effective_date: date | None = None,
                         valid_until: date | None = None, source: str = EvidenceSource.MANUAL,
                         metadata: dict[str, Any] | None = None) -> EvidenceVersion:
    """A new immutable version: exactly one of `file`, `content` or `url`. Hashes what it stores."""
    if sum(item is not None and item != "" for item in (file, content, url)) != 1:
        raise ServiceError("Give exactly one of a file, content or a URL.")
    if effective_date and valid_until and valid_until < effective_date:
        raise ServiceError("Valid-until cannot be before the effective date.")
    if metadata is not None and not isinstance(metadata, dict):
        raise ServiceError("Metadata must be a JSON object.")
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if EvidenceSource(source) != EvidenceSource.ROBUSTNESS_RUN and evidence_is_machine_made(evidence):
        raise MachineEvidenceError(
            f"“{evidence.title}” is machine evidence: its versions come only from robustness runs, so a "
            "hand-made version cannot be added. Add an annotation to it instead, or record your own "
            "evidence separately.")
    if content is not None:
        file = ContentFile(content, name=filename or "evidence.bin")
    number = (evidence.versions.aggregate(top=models.Max("number"))["top"] or 0) + 1
    version = EvidenceVersion(organisation_id=evidence.organisation_id, evidence=evidence, number=number,
                              effective_date=effective_date, valid_until=valid_until, source=EvidenceSource(source),
                              metadata=metadata or {}, uploaded_by=user_or_none(actor))
    if file is not None:
        name = (filename or getattr(file, "name", "") or "evidence.bin").rsplit("/", 1)[-1]
        version.sha256, version.size = file_sha256(file)
        if version.size > settings.MAX_UPLOAD_BYTES:
            raise ServiceError(f"The file is larger than the {settings.MAX_UPLOAD_BYTES} bytes allowed.")
        version.filename = name
        version.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        version.file.save(name, file, save=False)
    else:
        # A link's evidence is the reference itself: hash the URL so that the manifest still pins it.
        version.url, version.filename = url, filename or url
        version.sha256, version.size = hashlib.sha256(url.encode()).hexdigest(), 0
    try:
        _version_record(evidence, version, valid_until=valid_until, actor=actor)
    except BaseException:
        if version.file:
            version.file.delete(save=False)  # the transaction rolls back: no stored file without its row
        raise
    return version


def _version_record(evidence: Evidence, version: EvidenceVersion, *, valid_until: date | None, actor: Actor) -> None:
    version.save()
    evidence.current_version, evidence.valid_until = version, valid_until
    evidence.status = _status_for(valid_until, timezone.localdate())
    evidence.save(update_fields=["current_version", "valid_until", "status"])
    audit_event_record(organisation=evidence.organisation, actor=actor, action=AuditAction.CREATE, instance=version,
                       changes=audit_snapshot(version))


@transaction.atomic
def evidence_with_version_create(*, organisation: Organisation, title: str, kind: str, actor: Actor,
                                 ai_system: AISystem | None = None, requirements: Iterable[Requirement] = (),
                                 **version: Any) -> EvidenceVersion:
    """New evidence and its first version (`evidence_version_add`'s arguments): both or neither."""
    evidence = evidence_create(organisation=organisation, title=title, kind=kind, actor=actor, ai_system=ai_system,
                               requirements=requirements)
    return evidence_version_add(evidence=evidence, actor=actor, **version)


def expired_on_record_warning(valid_until: date | None, recorded_on: date) -> str:
    """The warning for evidence whose valid-until is already past the day it is recorded ("" if none).

    Such evidence is kept (last year's audit report is real history), but it is stored as expired at
    once, so it supports no result: the form asks the person to confirm, and the API says it in the
    answer's `warnings`.
    """
    if valid_until is None or valid_until >= recorded_on:
        return ""
    return (f"Valid until {valid_until.isoformat()} is already past (recorded on {recorded_on.isoformat()}): "
            "this version is stored as expired evidence and supports no result. Upload a current version "
            "for evidence that is still valid.")


def _status_for(valid_until: date | None, today: date) -> str:
    return EvidenceStatus.EXPIRED if valid_until is not None and valid_until < today else EvidenceStatus.ACTIVE


@transaction.atomic
def evidence_attach_to_requirements(*, evidence: Evidence, requirements: Iterable[Requirement],
                                    actor: Actor) -> Evidence:
    requirements = list(requirements)
    evidence.requirements.add(*requirements)
    audit_event_record(organisation=evidence.organisation, actor=actor, action=AuditAction.UPDATE, instance=evidence,
                       changes={"requirements_added": [r.pk for r in requirements]})
    return evidence


@dataclass(frozen=True)
class ExpiryOutcome:
    evidence_expired: int
    results_marked: int


def evidence_expiry_run(*, now: datetime | None = None) -> ExpiryOutcome:
    """The beat job: expire evidence past valid-until; flag results of unlocked assessments resting on it.

    Locked assessments keep their snapshot untouched; the dashboard flags their expired evidence.
    """
    today = timezone.localdate(now) if now else timezone.localdate()
    expired = 0
    due = Evidence.objects.filter(status=EvidenceStatus.ACTIVE, valid_until__lt=today).select_related("organisation")
    for evidence in due.iterator():
        with transaction.atomic():
            Evidence.objects.filter(pk=evidence.pk).update(status=EvidenceStatus.EXPIRED)
            audit_event_record(organisation=evidence.organisation, actor=None, action=AuditAction.UPDATE,
                               instance=evidence, changes={"status": [EvidenceStatus.ACTIVE, EvidenceStatus.EXPIRED],
                                                           "as_of": today})
            expired += 1
    return ExpiryOutcome(evidence_expired=expired, results_marked=_results_mark_for_review(today))


def _results_mark_for_review(today: date) -> int:
    results = (RequirementResult.objects
               .filter(evidence_versions__valid_until__lt=today, needs_review=False)
               .exclude(assessment__status=AssessmentStatus.LOCKED)
               .select_related("organisation").distinct())
    marked = 0
    for result in results.iterator():
        with transaction.atomic():
            reason = f"Evidence expired (as of {today.isoformat()})"
            RequirementResult.objects.filter(pk=result.pk).update(needs_review=True, review_reason=reason)
            audit_event_record(organisation=result.organisation, actor=None, action=AuditAction.UPDATE,
                               instance=result, changes={"needs_review": [False, True], "reason": reason})
            marked += 1
    return marked


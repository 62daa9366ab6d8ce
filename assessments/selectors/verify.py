"""Verify a file against the recorded SHA-256 of evidence versions and reports. Stores nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from assessments.models import EvidenceVersion, Report
from governance.models.jobs import JobStatus
from governance.models.tenancy import Organisation


@dataclass(frozen=True)
class Verification:
    sha256: str
    size: int
    evidence_versions: list[EvidenceVersion]
    reports: list[Report]

    @property
    def matched(self) -> bool:
        return bool(self.evidence_versions or self.reports)


def stream_sha256(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    chunks = stream.chunks() if hasattr(stream, "chunks") else iter(lambda: stream.read(1024 * 1024), b"")
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_verify(*, organisation: Organisation, stream: IO[bytes]) -> Verification:
    """Hash the upload in memory chunks and look the hash up in this organisation only."""
    sha256, size = stream_sha256(stream)
    return hash_verify(organisation=organisation, sha256=sha256, size=size)


def hash_verify(*, organisation: Organisation, sha256: str, size: int = 0) -> Verification:
    sha256 = sha256.strip().lower()
    versions = list(EvidenceVersion.objects.filter(organisation=organisation, sha256=sha256)
                    .exclude(file="").select_related("evidence", "uploaded_by"))
    reports = list(Report.objects.filter(organisation=organisation, sha256=sha256, status=JobStatus.SUCCEEDED)
                   .select_related("assessment").prefetch_related("attestations__attested_by"))
    return Verification(sha256=sha256, size=size, evidence_versions=versions, reports=reports)

"""The permission table of docs/architecture.md and docs/permissions.md, in one place. Every view and API asks here.

Role is necessary, not always sufficient: approving an assessment also needs the person to be one
of its named reviewers who recorded none of its results (four eyes, `assessments.selectors.signoff`).
"""

from __future__ import annotations

from enum import StrEnum

from governance.models.tenancy import Role


class Permission(StrEnum):
    MANAGE_MEMBERS = "manage_members"
    EDIT_REGISTRY = "edit_registry"  # AI systems, model versions, datasets, classification
    EDIT_CONTROLS = "edit_controls"  # controls, risks, Statement of Applicability
    RUN_ROBUSTNESS = "run_robustness"  # request, cancel, re-run robustness runs
    EDIT_ASSESSMENTS = "edit_assessments"  # results, evidence, findings
    APPROVE_ASSESSMENTS = "approve_assessments"  # review, approve and lock (approve: a named reviewer, four eyes)
    ATTEST_REPORTS = "attest_reports"  # an auditor attests a generated Final report by its SHA-256
    EDIT_ENGAGEMENTS = "edit_engagements"  # engagements, plans and actions
    READ = "read"  # everything in the organisation, dashboard, audit trail
    GENERATE_REPORTS = "generate_reports"
    DOWNLOAD_REPORTS = "download_reports"
    VERIFY = "verify"  # verify a file against recorded hashes (stores nothing)


_ADMIN, _OFFICER, _CONSULTANT, _AUDITOR = Role.ORG_ADMIN, Role.RISK_OFFICER, Role.CONSULTANT, Role.AUDITOR
_EVERYONE = frozenset(Role)
_EDITORS = frozenset({_ADMIN, _OFFICER, _CONSULTANT})

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.MANAGE_MEMBERS: frozenset({_ADMIN}),
    Permission.EDIT_REGISTRY: _EDITORS,
    Permission.EDIT_CONTROLS: _EDITORS,
    Permission.RUN_ROBUSTNESS: _EDITORS,
    Permission.EDIT_ASSESSMENTS: _EDITORS,
    Permission.APPROVE_ASSESSMENTS: frozenset({_ADMIN, _OFFICER}),
    Permission.ATTEST_REPORTS: frozenset({_AUDITOR}),
    Permission.EDIT_ENGAGEMENTS: frozenset({_ADMIN, _CONSULTANT}),
    Permission.READ: _EVERYONE,
    Permission.GENERATE_REPORTS: _EDITORS,
    Permission.DOWNLOAD_REPORTS: _EVERYONE,
    Permission.VERIFY: _EVERYONE,
}


def role_allows(role: str | None, action: Permission) -> bool:
    return role is not None and Role(role) in PERMISSIONS[action]

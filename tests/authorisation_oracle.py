"""Who may do what, written out by hand from the table in docs/permissions.md.

The authorisation matrices test the views and the API against this table, not against
`governance.permissions.PERMISSIONS`: a change to the permission table that is not also made here,
by hand, fails them (an oracle the code under test does not compute).
"""

from __future__ import annotations

from governance.permissions import Action

ADMIN, OFFICER, CONSULTANT, AUDITOR = "org_admin", "risk_officer", "consultant", "auditor"

ALLOWED: dict[Action, frozenset[str]] = {
    Action.MANAGE_MEMBERS: frozenset({ADMIN}),
    Action.EDIT_REGISTRY: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Action.EDIT_CONTROLS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Action.RUN_ROBUSTNESS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Action.EDIT_ASSESSMENTS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Action.APPROVE_ASSESSMENTS: frozenset({ADMIN, OFFICER}),
    Action.EDIT_ENGAGEMENTS: frozenset({ADMIN, CONSULTANT}),
    Action.READ: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
    Action.GENERATE_REPORTS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Action.DOWNLOAD_REPORTS: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
    Action.ATTEST_REPORTS: frozenset({AUDITOR}),
    Action.VERIFY: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
}

"""Who may do what, written out by hand from the table in docs/permissions.md.

The authorisation matrices test the views and the API against this table, not against
`governance.permissions.PERMISSIONS`: a change to the permission table that is not also made here,
by hand, fails them (an oracle the code under test does not compute).
"""

from __future__ import annotations

import re
from pathlib import Path

from governance.permissions import Permission

ADMIN, OFFICER, CONSULTANT, AUDITOR = "org_admin", "risk_officer", "consultant", "auditor"

ALLOWED: dict[Permission, frozenset[str]] = {
    Permission.MANAGE_MEMBERS: frozenset({ADMIN}),
    Permission.EDIT_REGISTRY: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Permission.EDIT_CONTROLS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Permission.RUN_ROBUSTNESS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Permission.EDIT_ASSESSMENTS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Permission.APPROVE_ASSESSMENTS: frozenset({ADMIN, OFFICER}),
    Permission.EDIT_ENGAGEMENTS: frozenset({ADMIN, CONSULTANT}),
    Permission.READ: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
    Permission.GENERATE_REPORTS: frozenset({ADMIN, OFFICER, CONSULTANT}),
    Permission.DOWNLOAD_REPORTS: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
    Permission.ATTEST_REPORTS: frozenset({AUDITOR}),
    Permission.VERIFY: frozenset({ADMIN, OFFICER, CONSULTANT, AUDITOR}),
}


def documented_table(path: Path) -> dict[str, frozenset[str]]:
    """The permission table of a Markdown file: rows naming an action as (`ACTION`), four role columns of ✅."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|[^|]*\(`([A-Z_]+)`\)[^|]*((?:\|[^|]*){4})\|\s*$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")[1:]]
            columns = (ADMIN, OFFICER, CONSULTANT, AUDITOR)
            table[match.group(1).lower()] = frozenset(role for role, cell in zip(columns, cells, strict=True)
                                                      if cell == "✅")
    return table

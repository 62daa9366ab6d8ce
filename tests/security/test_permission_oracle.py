"""The permission table, the hand-written oracle of the matrices and the documented table say the same."""

from __future__ import annotations

import re
from pathlib import Path

from governance.permissions import PERMISSIONS, Action
from tests.authorisation_oracle import ADMIN, ALLOWED, AUDITOR, CONSULTANT, OFFICER

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
COLUMNS = (ADMIN, OFFICER, CONSULTANT, AUDITOR)


def _documented() -> dict[str, frozenset[str]]:
    table = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|[^|]*\(`([A-Z_]+)`\)[^|]*((?:\|[^|]*){4})\|\s*$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")[1:]]
            table[match.group(1).lower()] = frozenset(role for role, cell in zip(COLUMNS, cells, strict=True)
                                                      if cell == "✅")
    return table


def test_the_oracle_covers_every_action():
    assert set(ALLOWED) == set(Action)


def test_the_permission_table_is_the_one_written_by_hand():
    for action in Action:
        assert {str(role) for role in PERMISSIONS[action]} == ALLOWED[action], action


def test_the_documented_table_is_the_one_written_by_hand():
    documented = _documented()
    assert set(documented) == {str(action) for action in Action}
    for action in Action:
        assert documented[str(action)] == ALLOWED[action], action

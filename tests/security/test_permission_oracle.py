"""The permission table, the hand-written oracle of the matrices and the documented tables say the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.permissions import PERMISSIONS, Permission
from tests.authorisation_oracle import ALLOWED, documented_table

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_oracle_covers_every_action():
    assert set(ALLOWED) == set(Permission)


def test_the_permission_table_is_the_one_written_by_hand():
    for action in Permission:
        assert {str(role) for role in PERMISSIONS[action]} == ALLOWED[action], action


@pytest.mark.parametrize("doc", ["permissions.md", "architecture.md"])
def test_the_documented_table_is_the_one_written_by_hand(doc):
    documented = documented_table(DOCS / doc)
    assert set(documented) == {str(action) for action in Permission}
    for action in Permission:
        assert documented[str(action)] == ALLOWED[action], action

"""The security matrices' world: two organisations, one row of every kind, built once per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.harness import Matrix, matrix_world


@pytest.fixture(scope="module")
def matrix(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Matrix]:
    with matrix_world(django_db_blocker) as built:
        yield built

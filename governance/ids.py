"""Row ids from the outside world: a number the database cannot hold is refused as invalid.

Both PostgreSQL's bigint and SQLite's INTEGER stop at 2**63 - 1; a larger id reaching a query
raises OverflowError or DataError (a 500) instead of "no such row".
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

MAX_ROW_ID = 2**63 - 1


def row_id_in_range(value: Any) -> bool:
    try:
        return 0 < int(str(value)) <= MAX_ROW_ID
    except ValueError:
        return True  # not a number at all: the field's own validation says why


class RowIdField(serializers.IntegerField):
    """An API field holding the id of a row."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ROW_ID)
        super().__init__(**kwargs)


class RowsChoiceField(forms.ModelMultipleChoiceField):
    """ModelMultipleChoiceField whose out-of-range ids are invalid choices, not a server error."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not row_id_in_range(pk):
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": pk})
        return super()._check_values(value)  # type: ignore[misc]  # django-stubs omit this private hook

"""Query-parameter filters of list endpoints: typed in the OpenAPI schema, validated on the way in.

A viewset names its filters as `{parameter: ORM lookup}`. Each parameter's type follows the model
field the lookup ends on: an id is a positive integer, a boolean field a boolean, a field with
choices one of them, anything else a string. An empty value means the filter is absent (what an
HTML form sends for an untouched field); any other value that is not of its type is a documented
400 naming the parameter, never a filter silently ignored (a typo would answer every row).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import ForeignObjectRel
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

MAX_ID = 2**63 - 1
FILTER_ERROR = OpenApiResponse(
    response={"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="A filter value that is not of its type: the parameter and why.")


def _model_field(model: type[models.Model], lookup: str) -> models.Field | ForeignObjectRel:
    *path, last = lookup.split("__")
    for name in path:
        related = model._meta.get_field(name).related_model
        assert isinstance(related, type), f"{lookup}: {name} is not a relation"  # a viewset's filters, not input
        model = related
    return model._meta.get_field(last)


def _filter_field(model_field: Any, lookup: str) -> serializers.Field:
    options = {"required": False, "help_text": f"Filter on {lookup}; empty means no filter."}
    if model_field.is_relation or model_field.primary_key:
        return serializers.IntegerField(min_value=1, max_value=MAX_ID, **options)
    if isinstance(model_field, models.BooleanField):
        return serializers.BooleanField(**options)
    if model_field.choices:
        return serializers.ChoiceField(choices=model_field.choices, **options)
    return serializers.CharField(max_length=model_field.max_length, **options)


def filter_serializer(model: type[models.Model], filters: dict[str, str]) -> type[serializers.Serializer]:
    """A serializer of the filters (the schema explodes it into query parameters)."""
    fields = {name: _filter_field(_model_field(model, lookup), lookup) for name, lookup in filters.items()}
    return type(f"{model.__name__}ListFilter", (serializers.Serializer,), fields)


def list_schema(serializer: type[serializers.ModelSerializer], filters: dict[str, str], *extra: Any) -> Any:
    """`extend_schema` of a filtered list of the serializer's model: typed parameters, the page, the 400."""
    return extend_schema(parameters=[filter_serializer(serializer.Meta.model, filters), *extra],
                         responses={200: serializer, 400: FILTER_ERROR})


def query_value(query: Any, name: str, field: serializers.Field) -> Any:
    """One query parameter checked by `field`: None when absent or empty; a 400 naming it when invalid."""
    value = query.get(name, "")
    if value == "":
        return None
    try:
        return field.run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({name: error.detail}) from None


def id_field(help_text: str = "", **options: Any) -> serializers.IntegerField:
    """The one definition of an id parameter: an integer from 1 to 2**63 - 1 (what the database holds)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text=help_text, **options)


def query_id(query: Any, name: str) -> int | None:
    """An id query parameter: None when absent or empty, else 1 … 2**63 - 1; a 400 naming it otherwise.

    Used by the API's ad-hoc parsers and (through `web_query_int`) by the web list filters.
    """
    return query_value(query, name, id_field())


def web_query_int(query: Any, name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """`query_value` for web views: a bad value raises `BadRequest` naming the parameter (the 400 page)."""
    from django.core.exceptions import BadRequest

    field = serializers.IntegerField(min_value=minimum, max_value=maximum, required=False)
    value = query.get(name, "")
    if value == "":
        return None
    # Digits only (no sign, spaces or decimals): what a link or form of ours sends.
    if not (isinstance(value, str) and value.isascii() and value.isdigit()) or len(value) > 20:
        raise BadRequest(f"{name} must be a whole number from {minimum} to {maximum}")
    try:
        return field.run_validation(value)
    except serializers.ValidationError:
        raise BadRequest(f"{name} must be a whole number from {minimum} to {maximum}") from None


def filters_apply(queryset: models.QuerySet, filters: dict[str, str], query: Any) -> models.QuerySet:
    """The queryset narrowed by the query's non-empty filters; a value not of its type raises a 400."""
    given = {name: query[name] for name in filters if query.get(name, "") != ""}
    checked = filter_serializer(queryset.model, filters)(data=given)
    checked.is_valid(raise_exception=True)
    return queryset.filter(**{filters[name]: value for name, value in checked.validated_data.items()})

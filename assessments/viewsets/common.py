"""Helpers the viewsets share: members as users, file responses."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.http import FileResponse, HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request

from governance.authz import access_of


def member_users(ids: Iterable[int] | None, request: Request) -> list | None:
    """Users by id who are members of the caller's organisation (owners, assessors, reviewers)."""
    if ids is None:
        return None
    ids = list(ids)
    users = list(get_user_model().objects.filter(pk__in=ids,
                                                 memberships__organisation=access_of(request).organisation))
    if len(users) != len(set(ids)):
        raise exceptions.ValidationError({"user": "Unknown member id(s)."})
    return users


def member_user(pk: int | None, request: Request):
    if pk is None:
        return None
    return member_users([pk], request)[0]


def download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_download(field_file, *, filename: str, content_type: str, sha256: str) -> FileResponse:
    response = FileResponse(field_file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-SHA256"] = sha256
    response["X-Content-Type-Options"] = "nosniff"
    return response

"""File answers every app shares: bytes made on the fly, or a stored file with its SHA-256."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def file_download(field_file: Any, *, filename: str, content_type: str, sha256: str) -> FileResponse:
    response = FileResponse(field_file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-SHA256"] = sha256
    response["X-Content-Type-Options"] = "nosniff"
    return response

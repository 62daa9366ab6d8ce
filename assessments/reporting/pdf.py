"""Render the audit report with WeasyPrint; its URL fetcher reaches only our own static and media files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assessments.models import Report
from assessments.reporting.context import report_context_build

# WeasyPrint logs every layout step at INFO: keep worker logs for what matters.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def allowed_roots() -> list[Path]:
    roots = [Path(directory).resolve() for directory in settings.STATICFILES_DIRS]
    roots += [Path(settings.STATIC_ROOT).resolve(), Path(settings.MEDIA_ROOT).resolve()]
    return roots


class OwnFilesFetcher(URLFetcher):
    """Serves `file://` URLs under the static and media roots (and inline `data:`); refuses all else.

    A report embeds user-provided text: without this, an `<img src="http://…">` or
    `file:///etc/passwd` smuggled into a title could make the worker fetch or embed it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, **kwargs)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" and not parsed.netloc else None
        if path is None or not any(path.is_relative_to(root) for root in allowed_roots()):
            self.refused.append(url)
            raise ValueError(f"Report resources are limited to our static and media files: {url}")
        return URLFetcherResponse(url, path.read_bytes(), status=200)


@dataclass(frozen=True)
class RenderedReport:
    pdf: bytes
    pages: int
    manifest: list[dict[str, Any]]
    manifest_sha256: str
    refused_urls: tuple[str, ...]


def report_html(*, report: Report) -> tuple[str, dict[str, Any]]:
    context = report_context_build(report=report)
    context["static_base"] = Path(settings.STATICFILES_DIRS[0]).resolve().as_uri() + "/"
    return render_to_string("reports/audit_report.html", context), context


def report_pdf_render(*, report: Report) -> RenderedReport:
    html, context = report_html(report=report)
    fetcher = OwnFilesFetcher()
    document = HTML(string=html, base_url=context["static_base"], url_fetcher=fetcher).render()
    pdf = document.write_pdf()
    return RenderedReport(pdf=pdf, pages=len(document.pages), manifest=context["manifest"],
                          manifest_sha256=context["manifest_sha256"], refused_urls=tuple(fetcher.refused))

"""Every URL of the URL conf, and what each needs: the authorisation matrix's source of truth.

`url_patterns()` walks `django.urls.get_resolver()` recursively (DRF router routes and their
format-suffix twins included) and tells, for each pattern, the HTTP methods its view handles.
`RULES` maps each URL name to a `Rule`: what each method needs (public, logged in, staff, or
one `Permission` of governance.permissions), how to build the URL's arguments from a world, and
whether the URL names one of the organisation's rows (another organisation gets 404) or lists
them (another organisation sees its own rows only).

The table is written from the permission table of docs/architecture.md, not read from the views, so a
view that asks for the wrong Permission fails the matrix. A URL with no rule fails it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from governance.permissions import Permission
from tests.security.world import World

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ALL_METHODS = ("GET", *WRITE_METHODS)
MISSING_ID = 987654321


class Need(StrEnum):
    PUBLIC = "public"  # anyone, logged in or not
    LOGIN = "login"  # any logged-in user, no organisation needed (own account, diagnostics)
    STAFF = "staff"  # Django's admin site: staff users only (no caller of the matrix is staff)


Requirement = Need | Permission


class Scope(StrEnum):
    OWNED = "owned"  # the URL names one organisation row: another organisation gets 404
    LISTING = "listing"  # the organisation's rows (or a form to add one): another organisation sees its own
    CATALOG = "catalog"  # global, read-only catalog rows, or nothing organisation-specific
    ORG_KEYED = "org_keyed"  # a key that is per organisation (audit sequence): another sees its own row


Kwargs = Callable[[World], dict[str, Any]]


def _none(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Rule:
    read: Requirement | None = None  # GET (and HEAD)
    write: Requirement | None = None  # POST, PUT, PATCH, DELETE unless `methods` says otherwise
    kwargs: Kwargs = _none
    scope: Scope = Scope.OWNED
    methods: Mapping[str, Requirement] = field(default_factory=dict)  # per-method overrides
    declared: tuple[str, ...] = ()  # the methods of a function view (they cannot be discovered)
    allowed_statuses: frozenset[int] = frozenset()  # an allowed caller's answers, when not the usual ones

    def need(self, method: str) -> Requirement | None:
        if method in self.methods:
            return self.methods[method]
        return self.read if method == "GET" else self.write


def read(kwargs: Kwargs = _none, scope: Scope = Scope.OWNED) -> Rule:
    return Rule(read=Permission.READ, kwargs=kwargs, scope=scope)


def form(action: Permission, kwargs: Kwargs = _none, scope: Scope = Scope.OWNED) -> Rule:
    """A web form: showing it needs the same Permission as submitting it."""
    return Rule(read=action, write=action, kwargs=kwargs, scope=scope)


def post(action: Permission, kwargs: Kwargs = _none, scope: Scope = Scope.OWNED) -> Rule:
    return Rule(write=action, kwargs=kwargs, scope=scope)


def resource(action: Permission, kwargs: Kwargs = _none, scope: Scope = Scope.OWNED) -> Rule:
    """Read by any member, written (POST/PUT/PATCH/DELETE) with `action`."""
    return Rule(read=Permission.READ, write=action, kwargs=kwargs, scope=scope)


def pk_of(key: str, name: str = "pk") -> Kwargs:
    return lambda world: {name: world.pk(key)}


def run_of(key: str, kind: str) -> Kwargs:
    return lambda world: {"kind": kind, "pk": world.pk(key)}


def run_file_of(key: str, kind: str) -> Kwargs:
    return lambda world: {"kind": kind, "pk": world.pk(key), "name": world.get(key).artifacts[0]["name"]}


def _framework_slug(world: World) -> dict[str, Any]:
    return {"slug": world.get("framework").slug}


def _audit_sequence(world: World) -> dict[str, Any]:
    return {"sequence": world.get("audit_event").sequence}


L, C, K = Scope.LISTING, Scope.CATALOG, Scope.ORG_KEYED
A = Permission
_RUN_KINDS = {"evaluations": "evaluation", "anchor-analyses": "anchor_analysis", "retraining": "retraining"}

WEB_RULES: dict[str, Rule] = {
    "healthz": Rule(read=Need.PUBLIC, declared=("GET",), scope=C, allowed_statuses=frozenset({200, 503})),
    "login": Rule(read=Need.PUBLIC, write=Need.PUBLIC, scope=C),
    "logout": Rule(write=Need.PUBLIC, scope=C),
    "password_change": Rule(read=Need.LOGIN, write=Need.LOGIN, scope=C),
    "password_change_done": Rule(read=Need.LOGIN, scope=C),
    "schema": Rule(read=Need.PUBLIC, scope=C),  # drf-spectacular serves the schema (no data) to anyone
    "api-docs": Rule(read=Need.PUBLIC, scope=C),
    "dashboard": read(scope=L),
    # governance
    "governance:organisation-switch": Rule(write=Need.LOGIN, declared=("POST",), scope=C,
                                           allowed_statuses=frozenset({302, 404})),  # empty POST: no such org
    "governance:ai-system-list": read(scope=L),
    "governance:ai-system-create": form(A.EDIT_REGISTRY, scope=L),
    "governance:ai-system-detail": read(pk_of("system")),
    "governance:ai-system-edit": form(A.EDIT_REGISTRY, pk_of("system")),
    "governance:ai-system-delete": form(A.EDIT_REGISTRY, pk_of("system")),
    "governance:classification-edit": form(A.EDIT_REGISTRY, pk_of("system")),
    "governance:model-version-create": form(A.EDIT_REGISTRY, pk_of("system")),
    "governance:model-version-detail": read(pk_of("model_version")),
    "governance:model-version-edit": form(A.EDIT_REGISTRY, pk_of("model_version")),
    "governance:model-version-delete": form(A.EDIT_REGISTRY, pk_of("model_version")),
    "governance:training-card-edit": form(A.EDIT_REGISTRY, pk_of("model_version")),
    "governance:dataset-list": read(scope=L),
    "governance:dataset-create": form(A.EDIT_REGISTRY, scope=L),
    "governance:dataset-detail": read(pk_of("dataset")),
    "governance:dataset-delete": form(A.EDIT_REGISTRY, pk_of("dataset")),
    "governance:soa": read(pk_of("system")),
    "governance:soa-propose": post(A.EDIT_CONTROLS, pk_of("system")),
    "governance:soa-confirm-all": post(A.EDIT_CONTROLS, pk_of("system")),
    "governance:decision-edit": form(A.EDIT_CONTROLS, pk_of("decision")),
    "governance:framework-list": read(scope=C),
    "governance:framework-detail": read(_framework_slug, scope=C),
    "governance:requirement-detail": read(pk_of("requirement"), scope=C),
    "governance:control-list": read(scope=L),
    "governance:control-create": form(A.EDIT_CONTROLS, scope=L),
    "governance:control-detail": read(pk_of("control")),
    "governance:control-edit": form(A.EDIT_CONTROLS, pk_of("control")),
    "governance:control-delete": form(A.EDIT_CONTROLS, pk_of("control")),
    "governance:risk-list": read(scope=L),
    "governance:risk-create": form(A.EDIT_CONTROLS, scope=L),
    "governance:risk-matrix-edit": form(A.EDIT_CONTROLS, scope=L),
    "governance:risk-detail": read(pk_of("risk")),
    "governance:risk-edit": form(A.EDIT_CONTROLS, pk_of("risk")),
    "governance:risk-delete": form(A.EDIT_CONTROLS, pk_of("risk")),
    "governance:member-list": read(scope=L),
    "governance:member-add": form(A.MANAGE_MEMBERS, scope=L),
    "governance:member-role": form(A.MANAGE_MEMBERS, pk_of("membership")),
    "governance:member-remove": form(A.MANAGE_MEMBERS, pk_of("membership")),
    "governance:audit-list": read(scope=L),
    # robustness
    "robustness:run-list": read(scope=L),
    "robustness:system-runs": read(pk_of("system", "system_pk")),
    "robustness:run-request": form(A.RUN_ROBUSTNESS, lambda w: {"system_pk": w.pk("system"), "kind": "evaluations"}),
    "robustness:run-detail": read(run_of("evaluation", "evaluations")),
    "robustness:run-status": read(run_of("evaluation", "evaluations")),
    "robustness:run-cancel": post(A.RUN_ROBUSTNESS, run_of("evaluation", "evaluations")),
    "robustness:run-rerun": post(A.RUN_ROBUSTNESS, run_of("evaluation", "evaluations")),
    "robustness:run-file": read(run_file_of("evaluation", "evaluations")),
    # assessments
    "assessments:assessment-list": read(scope=L),
    "assessments:assessment-create": form(A.EDIT_ASSESSMENTS, scope=L),
    "assessments:assessment-detail": read(pk_of("assessment")),
    "assessments:assessment-submit": post(A.EDIT_ASSESSMENTS, pk_of("assessment")),
    "assessments:assessment-approve": post(A.APPROVE_ASSESSMENTS, pk_of("assessment")),
    "assessments:assessment-lock": post(A.APPROVE_ASSESSMENTS, pk_of("approved_assessment")),
    "assessments:assessment-return": post(A.APPROVE_ASSESSMENTS, pk_of("assessment")),
    "assessments:assessment-export": Rule(read=A.DOWNLOAD_REPORTS,
                                          kwargs=lambda w: {"pk": w.pk("assessment"), "export": "soa.csv"}),
    "assessments:assessment-report": post(A.GENERATE_REPORTS, pk_of("assessment")),
    "assessments:result-list": read(scope=L),
    "assessments:result-edit": form(A.EDIT_ASSESSMENTS, pk_of("result")),
    "assessments:result-review": post(A.EDIT_ASSESSMENTS, pk_of("result")),
    "assessments:result-confirm-inference": post(A.EDIT_ASSESSMENTS, pk_of("result")),
    "assessments:evidence-list": read(scope=L),
    "assessments:evidence-create": form(A.EDIT_ASSESSMENTS, scope=L),
    "assessments:evidence-detail": resource(A.EDIT_ASSESSMENTS, pk_of("evidence")),
    "assessments:evidence-annotation-create": post(A.EDIT_ASSESSMENTS, pk_of("evidence")),
    "assessments:evidence-version-download": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("evidence_version")),
    "assessments:finding-list": read(scope=L),
    "assessments:finding-create": form(A.EDIT_ASSESSMENTS, scope=L),
    "assessments:finding-detail": resource(A.EDIT_ASSESSMENTS, pk_of("finding")),
    "assessments:engagement-list": read(scope=L),
    "assessments:engagement-create": form(A.EDIT_ENGAGEMENTS, scope=L),
    "assessments:engagement-detail": resource(A.EDIT_ENGAGEMENTS, pk_of("engagement")),
    "assessments:action-create": form(A.EDIT_ENGAGEMENTS, pk_of("engagement", "engagement_pk")),
    "assessments:phase-edit": form(A.EDIT_ENGAGEMENTS, pk_of("phase")),
    "assessments:action-list": read(scope=L),
    "assessments:action-edit": form(A.EDIT_ENGAGEMENTS, pk_of("action")),
    "assessments:report-list": read(scope=L),
    "assessments:report-detail": read(pk_of("report")),
    "assessments:report-download": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("report")),
    "assessments:report-attest": post(A.ATTEST_REPORTS, pk_of("report")),
    "assessments:verify": form(A.VERIFY, scope=C),
}

API_RULES: dict[str, Rule] = {
    "api:api-root": Rule(read=Need.LOGIN, scope=C),
    "api:worker-ping": Rule(write=Permission.MANAGE_MEMBERS, scope=C),  # org admins (of any organisation) and staff
    "api:worker-ping-detail": Rule(read=Permission.MANAGE_MEMBERS, kwargs=lambda w: {"task_id": "no-such-task"},
                                   scope=C),
    # governance
    "api:ai-system-list": resource(A.EDIT_REGISTRY, scope=L),
    "api:ai-system-detail": resource(A.EDIT_REGISTRY, pk_of("system")),
    "api:ai-system-classification": resource(A.EDIT_REGISTRY, pk_of("system")),
    "api:ai-system-propose-applicability": post(A.EDIT_CONTROLS, pk_of("system")),
    "api:ai-system-confirm-applicability": post(A.EDIT_CONTROLS, pk_of("system")),
    "api:model-version-list": resource(A.EDIT_REGISTRY, scope=L),
    "api:model-version-detail": resource(A.EDIT_REGISTRY, pk_of("model_version")),
    "api:model-version-training-card": resource(A.EDIT_REGISTRY, pk_of("model_version")),
    "api:dataset-list": resource(A.EDIT_REGISTRY, scope=L),
    "api:dataset-detail": resource(A.EDIT_REGISTRY, pk_of("dataset")),
    "api:framework-list": read(scope=C),
    "api:framework-detail": read(lambda w: {"pk": w.pk("framework")}, scope=C),
    "api:requirement-list": read(scope=C),
    "api:requirement-detail": read(pk_of("requirement"), scope=C),
    "api:crosswalk-list": read(scope=C),
    "api:crosswalk-detail": read(pk_of("crosswalk"), scope=C),
    "api:applicability-decision-list": read(scope=L),
    "api:applicability-decision-detail": read(pk_of("decision")),
    "api:applicability-decision-decide": post(A.EDIT_CONTROLS, pk_of("decision")),
    "api:control-list": resource(A.EDIT_CONTROLS, scope=L),
    "api:control-detail": resource(A.EDIT_CONTROLS, pk_of("control")),
    "api:risk-list": resource(A.EDIT_CONTROLS, scope=L),
    "api:risk-heat-map": read(scope=L),
    "api:risk-matrix": resource(A.EDIT_CONTROLS, scope=L),
    "api:risk-detail": resource(A.EDIT_CONTROLS, pk_of("risk")),
    "api:membership-list": resource(A.MANAGE_MEMBERS, scope=L),
    "api:membership-detail": resource(A.MANAGE_MEMBERS, pk_of("membership")),
    "api:audit-event-list": read(scope=L),
    "api:audit-event-detail": read(_audit_sequence, scope=K),
    # assessments
    "api:assessment-list": resource(A.EDIT_ASSESSMENTS, scope=L),
    "api:assessment-detail": resource(A.EDIT_ASSESSMENTS, pk_of("assessment")),
    "api:assessment-submit": post(A.EDIT_ASSESSMENTS, pk_of("assessment")),
    "api:assessment-approve": post(A.APPROVE_ASSESSMENTS, pk_of("assessment")),
    "api:assessment-lock": post(A.APPROVE_ASSESSMENTS, pk_of("approved_assessment")),
    "api:assessment-return-to-draft": post(A.APPROVE_ASSESSMENTS, pk_of("assessment")),
    "api:assessment-snapshot": read(pk_of("assessment")),
    "api:assessment-manifest-csv": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("assessment")),
    "api:assessment-manifest-xlsx": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("assessment")),
    "api:assessment-soa-csv": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("assessment")),
    "api:assessment-soa-xlsx": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("assessment")),
    "api:requirement-result-list": read(scope=L),
    "api:requirement-result-detail": resource(A.EDIT_ASSESSMENTS, pk_of("result")),
    "api:requirement-result-review": post(A.EDIT_ASSESSMENTS, pk_of("result")),
    "api:requirement-result-confirm-inference": post(A.EDIT_ASSESSMENTS, pk_of("result")),
    "api:evidence-list": resource(A.EDIT_ASSESSMENTS, scope=L),
    "api:evidence-detail": resource(A.EDIT_ASSESSMENTS, pk_of("evidence")),
    "api:evidence-versions": post(A.EDIT_ASSESSMENTS, pk_of("evidence")),
    "api:evidence-annotations": post(A.EDIT_ASSESSMENTS, pk_of("evidence")),
    "api:evidence-version-list": read(scope=L),
    "api:evidence-version-detail": read(pk_of("evidence_version")),
    "api:evidence-version-download": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("evidence_version")),
    "api:finding-list": resource(A.EDIT_ASSESSMENTS, scope=L),
    "api:finding-detail": resource(A.EDIT_ASSESSMENTS, pk_of("finding")),
    "api:engagement-list": resource(A.EDIT_ENGAGEMENTS, scope=L),
    "api:engagement-detail": resource(A.EDIT_ENGAGEMENTS, pk_of("engagement")),
    "api:engagement-phase-list": read(scope=L),
    "api:engagement-phase-detail": resource(A.EDIT_ENGAGEMENTS, pk_of("phase")),
    "api:action-list": resource(A.EDIT_ENGAGEMENTS, scope=L),
    "api:action-detail": resource(A.EDIT_ENGAGEMENTS, pk_of("action")),
    "api:report-list": resource(A.GENERATE_REPORTS, scope=L),
    "api:report-detail": read(pk_of("report")),
    "api:report-download": Rule(read=A.DOWNLOAD_REPORTS, kwargs=pk_of("report")),
    "api:report-attest": post(A.ATTEST_REPORTS, pk_of("report")),
    "api:verify-list": post(A.VERIFY, scope=C),
    "api:dashboard-list": read(scope=L),
}
for _slug, _key in {"evaluation": "evaluation", "anchor-analysis": "anchor_analysis",
                    "retraining": "retraining"}.items():
    API_RULES[f"api:robustness-{_slug}-list"] = resource(A.RUN_ROBUSTNESS, scope=L)
    API_RULES[f"api:robustness-{_slug}-detail"] = read(pk_of(_key))
    API_RULES[f"api:robustness-{_slug}-cancel"] = post(A.RUN_ROBUSTNESS, pk_of(_key))
    API_RULES[f"api:robustness-{_slug}-rerun"] = post(A.RUN_ROBUSTNESS, pk_of(_key))

RULES: dict[str, Rule] = {**WEB_RULES, **API_RULES}

# Django's admin site generates a URL family per registered model; all of it is for staff users
# (none of the matrix's callers is staff), except its login page and the bare-object redirects.
_ADMIN_ARGUMENTS = {"object_id": "1", "content_type_id": "1", "id": "1", "app_label": "governance",
                    "url": "no-such-page"}
ADMIN_STAFF = Rule(read=Need.STAFF, write=Need.STAFF, declared=("GET", "POST"), scope=C,
                   kwargs=lambda w: dict(_ADMIN_ARGUMENTS))
ADMIN_PUBLIC = Rule(read=Need.PUBLIC, write=Need.PUBLIC, declared=("GET", "POST"), scope=C)
ADMIN_REDIRECT = Rule(read=Need.PUBLIC, write=Need.PUBLIC, scope=C, kwargs=lambda w: dict(_ADMIN_ARGUMENTS),
                      allowed_statuses=frozenset({301, 302}))


@dataclass(frozen=True)
class UrlPattern:
    name: str | None
    route: str
    view: str
    view_class: type | None
    actions: Mapping[str, str] | None  # a DRF viewset's method → action

    @property
    def label(self) -> str:
        return f"{self.name or '(unnamed)'} {self.route}"

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/v1/")

    @property
    def has_format_suffix(self) -> bool:
        return "(?P<format>" in self.route or "<drf_format_suffix:format>" in self.route

    def methods(self, rule: Rule) -> tuple[str, ...]:
        """The methods the view handles (discovered), or those the rule declares for a function view."""
        if self.route.startswith("admin/"):
            return ("GET", "POST")  # the admin site's views all answer the same way to the other verbs
        if self.actions is not None:
            return tuple(method for method in ALL_METHODS if method.lower() in self.actions)
        if self.view_class is None:
            return rule.declared
        allowed = {name.upper() for name in getattr(self.view_class, "http_method_names", [])}
        return tuple(method for method in ALL_METHODS
                     if method in allowed and callable(getattr(self.view_class, method.lower(), None)))


def format_suffix_bug(pattern: UrlPattern, method: str) -> str | None:
    """Why this format-suffix URL answers 500, if its view method cannot take DRF's `format` argument.

    DRF passes `format="json"` to the handler of `/….json/`; a handler declared without `format=None`
    or `**kwargs` raises TypeError. Detected from the signature, so a fixed handler stops being expected
    to fail the moment it is fixed.
    """
    import inspect

    if not pattern.has_format_suffix or pattern.view_class is None:
        return None
    handler_name = (pattern.actions or {}).get(method.lower(), method.lower())
    handler = getattr(pattern.view_class, handler_name, None)
    if handler is None:
        return None
    parameters = inspect.signature(handler).parameters.values()
    if any(p.kind is p.VAR_KEYWORD or p.name == "format" for p in parameters):
        return None
    return (f"BUG: {pattern.view_class.__name__}.{handler_name}() takes no `format` argument, so "
            f"{method} {pattern.route} answers 500 (TypeError)")


def _walk(patterns: list[Any], prefix: str, namespace: str | None) -> list[UrlPattern]:
    found: list[UrlPattern] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found += _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            found.append(UrlPattern(name=name, route=prefix + str(pattern.pattern),
                                    view=getattr(view_class or callback, "__name__", repr(callback)),
                                    view_class=view_class, actions=getattr(callback, "actions", None)))
    return found


def url_patterns() -> list[UrlPattern]:
    return _walk(get_resolver().url_patterns, "", None)


def rule_for(pattern: UrlPattern) -> Rule | None:
    if pattern.name in RULES:
        return RULES[pattern.name]
    if pattern.route.startswith("admin/"):
        if pattern.name == "admin:login":
            return ADMIN_PUBLIC
        return ADMIN_STAFF if pattern.name else ADMIN_REDIRECT
    return None


def path_for(pattern: UrlPattern, kwargs: Mapping[str, Any]) -> str:
    """The concrete path of a pattern (named or not, path() or re_path()) with these arguments."""
    values = {**kwargs, "format": "json"}
    route = pattern.route.replace("<drf_format_suffix:format>", ".json")
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(values[match.group(1)]), route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), route)
    route = route.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + route

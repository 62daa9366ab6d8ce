"""Dashboard at scale: 1,000 AI systems × 4 frameworks, 100,000 requirement results (or 10× that).

Seeds a throw-away test database (never the real one: SQLite in memory, or `test_<name>_bench` on
PostgreSQL when DATABASE_URL names one) with set-based inserts (the results in one INSERT … SELECT,
so a million rows take seconds), rebuilds the pre-aggregated coverage counts as an import would,
then renders the control-evidence dashboard repeatedly through the test client and prints the p50
and p95 render times and the SQL queries per render (which must not grow with the data). The
queries are counted with an execute wrapper: Django's own capture keeps only the last 9,000.

The two parts the counts replaced are also timed beside their old computation, which can still be
called: the coverage counted from the results (`dashboard_coverage_get(from_results=True)`) and
the heat map's cells read through every current assessment of the organisation (`current_results`).

    .venv/bin/python benchmarks/dashboard_scale.py [--systems 1000] [--results 100000] [--renders 20]
    .venv/bin/python benchmarks/dashboard_scale.py --systems 10000 --results 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RESULTS = ("compliant", "partially_compliant", "non_compliant", "not_assessed", "not_applicable")


def frameworks_ensure(count: int, per_framework: int) -> list:
    from governance.models import Framework, Requirement

    frameworks = []
    for index in range(count):
        framework = Framework.objects.create(
            urn=f"urn:bench:fw{index}",
            slug=f"fw{index}",
            ref_id=f"FW{index}",
            name=f"Benchmark framework {index}",
            edition="2023",
            publisher="bench",
            text_policy="paraphrase",
            checksum="0" * 64,
            loaded_at=timezone.now(),
        )
        Requirement.objects.bulk_create(
            [
                Requirement(
                    framework=framework,
                    urn=f"urn:bench:fw{index}:r{n}",
                    ref_id=f"R{n}",
                    kind="control",
                    title=f"R{n}",
                    text_status="paraphrase",
                    assessable=True,
                    order=n,
                )
                for n in range(per_framework)
            ]
        )
        frameworks.append(framework)
    return frameworks


def _results_insert(organisation_id: int) -> int:
    """Every assessment × every requirement of its framework, in one set-based statement."""
    from assessments.models import RequirementResult

    cases = " ".join(f"WHEN {index} THEN '{value}'" for index, value in enumerate(RESULTS))
    value = f"CASE ((a.id + r.id) %% {len(RESULTS)}) {cases} END"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RequirementResult._meta.db_table} (organisation_id, assessment_id, requirement_id, "
            "applicable, applicability_justification, result, rationale, not_assessed_reason, is_inferred, "
            "needs_review, review_reason, updated_at) "
            f"SELECT a.organisation_id, a.id, r.id, ({value}) <> 'not_applicable', '', {value}, '', '', %s, %s, '', %s "
            "FROM assessments_assessment a JOIN governance_requirement r ON r.framework_id = a.framework_id "
            "WHERE a.organisation_id = %s ORDER BY a.id, r.id",
            [False, False, timezone.now(), organisation_id])
        return cursor.rowcount


def seed(*, systems: int, results: int, frameworks: int = 4) -> tuple:
    from assessments.models import Assessment
    from assessments.services.coverage import coverage_rebuild
    from governance.models import AISystem
    from governance.services import user_with_membership_ensure
    from governance.services.tenancy import organisation_create

    per_system_framework = max(results // (systems * frameworks), 1)
    organisation = organisation_create(name="Scale Co", slug="scale", actor=None)
    user = user_with_membership_ensure(
        organisation=organisation, username="bench", password="bench-password-1", role="auditor"
    )
    catalog = frameworks_ensure(frameworks, per_system_framework)
    ai_systems = AISystem.objects.bulk_create(
        [
            AISystem(organisation=organisation, name=f"System {n:05d}", intended_purpose="benchmark")
            for n in range(systems)
        ],
        batch_size=2000,
    )
    Assessment.objects.bulk_create(
        [
            Assessment(organisation=organisation, framework=f, ai_system=s, title=f"{s.name} × {f.ref_id}")
            for s in ai_systems
            for f in catalog
        ],
        batch_size=2000,
    )
    seeded = _results_insert(organisation.pk)
    started = time.perf_counter()
    coverage_rebuild(organisation=organisation)  # the rows went in behind the services' back, as in an import
    print(f"coverage counts rebuilt from the results in {time.perf_counter() - started:.2f} s")
    return user, organisation, seeded


class QueryCounter:
    """Counts every statement the connection executes (no cap, unlike connection.queries_log)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(function, repeats: int) -> tuple[float, float, int]:
    """p50 and p95 in ms, and queries per call, after two warm-up calls."""
    timings, counter = [], QueryCounter()
    for index in range(repeats + 2):
        counter.count = 0
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            function()
            elapsed = time.perf_counter() - start
        if index >= 2:
            timings.append(elapsed)
    timings.sort()
    return percentile(timings, 0.50) * 1000, percentile(timings, 0.95) * 1000, counter.count


def old_and_new(organisation, repeats: int) -> None:
    from assessments.selectors.dashboard import current_results, dashboard_coverage_get, dashboard_heatmap_get
    from governance.models import AISystem, Framework

    framework = Framework.objects.order_by("ref_id").first()
    shown = list(AISystem.objects.filter(organisation=organisation).order_by("name", "id")[:20])

    def old_cells() -> None:
        list(current_results(organisation).filter(assessment__framework=framework, assessment__ai_system__in=shown)
             .values_list("requirement_id", "assessment__ai_system_id", "result"))

    assert dashboard_coverage_get(organisation=organisation) == dashboard_coverage_get(
        organisation=organisation, from_results=True), "the counts and the results disagree"
    pairs = (
        ("coverage", lambda: dashboard_coverage_get(organisation=organisation, from_results=True),
         lambda: dashboard_coverage_get(organisation=organisation)),
        ("heat map", old_cells,
         lambda: dashboard_heatmap_get(organisation=organisation, framework_id=framework.pk)),
    )
    for name, old, new in pairs:
        old_p50, old_p95, _ = timed(old, repeats)
        new_p50, new_p95, _ = timed(new, repeats)
        print(f"  {name:9} old p50 {old_p50:7.1f} ms p95 {old_p95:7.1f} ms | new p50 {new_p50:6.1f} ms "
              f"p95 {new_p95:6.1f} ms | old/new p95 {old_p95 / new_p95:6.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_bench"  # never the test suite's database
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        user, organisation, seeded = seed(systems=args.systems, results=args.results)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"seeded {args.systems} AI systems, 4 frameworks, {seeded} requirement results "
            f"in {time.perf_counter() - started:.1f} s ({connection.vendor})"
        )
        client = Client()
        client.force_login(user)

        def render() -> None:
            response = client.get("/")
            assert response.status_code == 200, response.status_code

        p50, p95, queries = timed(render, args.renders)
        print(f"dashboard render: p50 {p50:.0f} ms, p95 {p95:.0f} ms over {args.renders} renders; "
              f"{queries} SQL queries per render")
        old_and_new(organisation, args.renders)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

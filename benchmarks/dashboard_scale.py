"""Dashboard at scale: 1,000 AI systems × 4 frameworks, 100,000 requirement results.

Seeds a throw-away test database (never the real one) with bulk inserts, then renders the
control-evidence dashboard repeatedly through the test client and prints the median and p95
render times and the number of SQL queries per render (which must not grow with the data).

    .venv/bin/python benchmarks/dashboard_scale.py [--systems 1000] [--results 100000] [--renders 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
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


def seed(*, systems: int, results: int, frameworks: int = 4) -> tuple:
    from assessments.models import Assessment, RequirementResult
    from governance.models import AISystem, Requirement
    from governance.services import user_with_membership_ensure
    from governance.services.tenancy import organisation_create

    per_system_framework = max(results // (systems * frameworks), 1)
    organisation = organisation_create(name="Scale Co", slug="scale", actor=None)
    user = user_with_membership_ensure(
        organisation=organisation, username="bench", password="bench-password-1", role="auditor"
    )
    catalog = frameworks_ensure(frameworks, per_system_framework)
    requirements = {f.pk: list(Requirement.objects.filter(framework=f).order_by("order")) for f in catalog}
    ai_systems = AISystem.objects.bulk_create(
        [
            AISystem(organisation=organisation, name=f"System {n:04d}", intended_purpose="benchmark")
            for n in range(systems)
        ]
    )
    assessments = Assessment.objects.bulk_create(
        [
            Assessment(organisation=organisation, framework=f, ai_system=s, title=f"{s.name} × {f.ref_id}")
            for s in ai_systems
            for f in catalog
        ],
        batch_size=2000,
    )
    rows = [
        RequirementResult(
            organisation=organisation,
            assessment=a,
            requirement=r,
            result=RESULTS[(a.pk + r.pk) % len(RESULTS)],
            applicable=RESULTS[(a.pk + r.pk) % len(RESULTS)] != "not_applicable",
        )
        for a in assessments
        for r in requirements[a.framework_id]
    ]
    RequirementResult.objects.bulk_create(rows, batch_size=5000)
    return user, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=20)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        user, seeded = seed(systems=args.systems, results=args.results)
        print(
            f"seeded {args.systems} AI systems, 4 frameworks, {seeded} requirement results "
            f"in {time.perf_counter() - started:.1f} s ({connection.vendor})"
        )
        client = Client()
        client.force_login(user)
        timings, queries = [], []
        for _ in range(args.renders + 2):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get("/")
                timings.append(time.perf_counter() - start)
            assert response.status_code == 200, response.status_code
            queries.append(len(captured.captured_queries))
        timings = sorted(timings[2:])  # the first renders warm caches and templates
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(
            f"dashboard render: median {statistics.median(timings) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
            f"over {len(timings)} renders; {max(queries)} SQL queries per render"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

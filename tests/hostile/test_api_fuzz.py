"""Property-based fuzzing of the REST API against its own OpenAPI schema (schemathesis, in-process WSGI).

Every operation of /api/schema/ gets FUZZ_EXAMPLES generated requests (5 in `make test`; the long
run is `FUZZ_EXAMPLES=200 pytest tests/hostile/test_api_fuzz.py`, `make fuzz`) from a risk
officer of Acme (token + X-Organisation). Checks: never a 5xx, and every answer whose status the
schema declares conforms to the declared body schema. Each request runs in a savepoint that is
rolled back, so the world every example sees is the same.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.security.harness import Matrix

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_headers(matrix: Matrix) -> Iterator[dict[str, str]]:
    """A risk officer's token; the WSGI app must not close the test's connection between requests."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=get_user_model().objects.get(username="oscar"))
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    rates = UserRateThrottle.rate, AnonRateThrottle.rate
    UserRateThrottle.rate = AnonRateThrottle.rate = "1000000/minute"  # the fuzzer is not a flood
    try:
        yield {"Authorization": f"Token {token.key}", "X-Organisation": "acme"}
    finally:
        UserRateThrottle.rate, AnonRateThrottle.rate = rates
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        _publish_counts()


def _publish_counts() -> None:
    out = settings.TEST_OUTPUT_DIR / "fuzz-api.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"examples_per_operation": EXAMPLES, "operations": len(TRIED),
                               "requests": sum(TRIED.values()), "per_operation": dict(TRIED)}, indent=1))


@schema.parametrize()
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_5xx_and_keeps_to_its_schema(case: Any, fuzz_headers: dict[str, str]):
    TRIED[f"{case.method} {case.path}"] += 1
    with transaction.atomic():
        response = case.call(headers=fuzz_headers)
        transaction.set_rollback(True)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

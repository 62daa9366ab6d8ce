"""Acme's assessments world: two small frameworks with crosswalks, one AI system, people in roles."""

from __future__ import annotations

import pytest

from governance.models import Crosswalk, Relationship, Requirement
from tests.assessments.factories import ai_system_make, catalog_make, model_version_make


@pytest.fixture
def frameworks(db):
    return catalog_make()


@pytest.fixture
def nist(frameworks):
    return frameworks[0]


@pytest.fixture
def iso(frameworks):
    return frameworks[1]


@pytest.fixture
def system(acme):
    return ai_system_make(acme)


@pytest.fixture
def model_version(system):
    return model_version_make(system)


@pytest.fixture
def alice(member):
    return member("org_admin").user


@pytest.fixture
def oscar(member):
    return member("risk_officer").user


@pytest.fixture
def carol(member):
    return member("consultant").user


@pytest.fixture
def audrey(member):
    return member("auditor").user


@pytest.fixture
def a3(iso, nist):
    """ISO A3, which NIST M3 intersects (the review's §2.3 case, MEASURE 2.7 intersects Art 15(1)):
    recording M3 proposes (infers) A3 in the same system's ISO assessment."""
    requirement = Requirement.objects.create(framework=iso, urn="urn:test:iso:A3", ref_id="A3", kind="control",
                                             title="Requirement A3", text_status="paraphrase", assessable=True,
                                             order=2)
    Crosswalk.objects.create(source=Requirement.objects.get(framework=nist, ref_id="M3"), target=requirement,
                             relationship=Relationship.INTERSECTS, rationale="overlap", provenance="test", order=3)
    return requirement

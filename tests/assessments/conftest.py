"""Acme's assessments world: two small frameworks with crosswalks, one AI system, people in roles."""

from __future__ import annotations

import pytest

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

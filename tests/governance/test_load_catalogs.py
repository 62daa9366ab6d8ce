"""`manage.py load_catalogs`: idempotent, updates in place, never duplicates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from governance.models import Crosswalk, Framework, Requirement
from tests.governance.conftest import FIXTURE_CATALOGS


def _counts() -> tuple[int, int, int]:
    return Framework.objects.count(), Requirement.objects.count(), Crosswalk.objects.count()


def test_loading_the_shipped_catalogs_twice_gives_the_same_rows(db):
    call_command("load_catalogs")
    first = _counts()
    ids = dict(Requirement.objects.values_list("urn", "pk"))
    call_command("load_catalogs")
    assert _counts() == first
    assert dict(Requirement.objects.values_list("urn", "pk")) == ids
    assert first[0] == 4 and first[1] == 395 + 95 + 93 + 67 and first[2] >= 100


def test_the_shipped_catalogs_keep_their_trees_and_counts(db):
    call_command("load_catalogs")
    nist = Framework.objects.get(slug="nist-ai-rmf")
    assert nist.requirements.filter(kind="subcategory").count() == 72
    assert nist.requirements.filter(kind="category").count() == 19
    measure_27 = Requirement.objects.get(framework=nist, ref_id="MEASURE 2.7")
    assert measure_27.parent.ref_id == "MEASURE 2" and measure_27.parent.parent.ref_id == "MEASURE"
    assert Requirement.objects.filter(framework__slug="eu-ai-act", parent__ref_id__startswith="Annex III ",
                                      kind="annex-point").count() == 25
    assert len(nist.checksum) == 64


def test_a_changed_file_of_the_same_edition_updates_text_in_place(db, tmp_path: Path):
    folder = tmp_path / "catalogs"
    shutil.copytree(FIXTURE_CATALOGS, folder)
    call_command("load_catalogs", directory=str(folder))
    before = _counts()
    row = Requirement.objects.get(ref_id="Art 9(1)")
    old_checksum = Framework.objects.get(slug="eu-ai-act").checksum
    path = folder / "eu-ai-act-test.yaml"
    path.write_text(path.read_text().replace("A risk management system is established.",
                                             "A risk management system is established and maintained."))
    call_command("load_catalogs", directory=str(folder))
    assert _counts() == before
    updated = Requirement.objects.get(pk=row.pk)
    assert updated.text == "A risk management system is established and maintained."
    assert Framework.objects.get(slug="eu-ai-act").checksum != old_checksum


def test_a_broken_catalog_is_refused_before_anything_is_written(db, tmp_path: Path):
    folder = tmp_path / "catalogs"
    shutil.copytree(FIXTURE_CATALOGS, folder)
    (folder / "nist-ai-rmf-test.yaml").write_text("framework: {}\nrequirements: []\n")
    with pytest.raises(CommandError, match="catalog not loaded"):
        call_command("load_catalogs", directory=str(folder))
    assert _counts() == (0, 0, 0)


def test_setup_platform_loads_the_catalogs(db):
    call_command("setup_platform")
    assert Framework.objects.count() == 4

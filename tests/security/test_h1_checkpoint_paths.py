"""Review H-1: a pretrained tag is never a path; a checkpoint is only the organisation's own upload."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance import services
from governance.models import ModelVersion
from governance.uploads import PRETRAINED_TAG_REFUSED
from robustness.engine import models as engine_models
from robustness.engine.errors import CheckpointError, ModelConfigError
from robustness.engine.models import ModelSpec, load_clip
from tests.conftest import client_in
from tests.governance import conftest as governance_fixtures

# Acme's registry, as the governance tests build it (fixtures of another folder's conftest).
alice, world = governance_fixtures.alice, governance_fixtures.world
fixture_catalogs = governance_fixtures.fixture_catalogs
API = "/api/v1"
PROBE_TAGS = ["/etc/hostname", "/etc/shadow", "var/secret_key", "/nonexistent/x.pt", "..", "a\\b", "model.safetensors",
              "not-a-tag"]
BASE = {"architecture": "ViT-B-32", "class_names": ["cat", "dog"], "prompt_templates": ["a photo of a {}."]}


@pytest.fixture
def acme_checkpoint(world, alice):
    """Acme (org A) uploads a checkpoint; its stored path is the stolen tag of the replay."""
    version = services.model_version_create(
        ai_system=world.system, actor=alice, data={**BASE, "version": "weights", "pretrained_tag": ""},
        checkpoint=SimpleUploadedFile("model.safetensors", b"weights" * 10))
    return version


@pytest.fixture
def globex_system(globex):
    from governance.models import Membership, Role

    mallory = Membership.objects.get(organisation=globex, role=Role.ORG_ADMIN).user
    system = services.ai_system_create(organisation=globex, actor=mallory, data={
        "name": "Globex screener", "intended_purpose": "Ranks applications.", "operator_roles": ["provider"],
        "lifecycle_stage": "design_development", "human_oversight": "human_in_the_loop",
        "review_frequency_days": 180})
    return system


def test_uploads_are_stored_per_organisation_with_a_random_name(acme_checkpoint, acme):
    name = acme_checkpoint.checkpoint.name
    assert name.startswith(f"checkpoints/{acme.pk}/") and name.endswith(".safetensors")
    assert "model" not in name.rsplit("/", 1)[1]


def _stolen_tags(version: ModelVersion) -> list[str]:
    return [version.checkpoint.name, str(version.checkpoint.path)[-120:], f"var/media/{version.checkpoint.name}",
            "var/media/checkpoints/2026/12/model.safetensors"]


def test_replay_cross_tenant_tag_is_refused_by_the_service(acme_checkpoint, globex_system):
    for tag in _stolen_tags(acme_checkpoint) + PROBE_TAGS:
        with pytest.raises(ValidationError) as raised:
            services.model_version_create(ai_system=globex_system, actor=None,
                                          data={**BASE, "version": "stolen", "pretrained_tag": tag})
        assert raised.value.message_dict == {"pretrained_tag": [PRETRAINED_TAG_REFUSED]}, tag
    assert not ModelVersion.objects.filter(organisation=globex_system.organisation).exists()


def test_replay_cross_tenant_tag_is_refused_by_the_api(acme_checkpoint, globex_system):
    client = client_in("mallory", globex_system.organisation)
    for tag in _stolen_tags(acme_checkpoint) + PROBE_TAGS:
        response = client.post(API + "/model-versions/", {**BASE, "ai_system": globex_system.pk, "version": "stolen",
                                                           "pretrained_tag": tag},
                               content_type="application/json", HTTP_X_ORGANISATION="globex")
        assert response.status_code == 400, (tag, response.content)
        assert PRETRAINED_TAG_REFUSED in response.content.decode(), tag
        assert "exist" not in response.content.decode().lower()
    assert not ModelVersion.objects.filter(organisation=globex_system.organisation).exists()


def test_replay_cross_tenant_tag_is_refused_by_the_web_form(acme_checkpoint, globex_system):
    client = client_in("mallory", globex_system.organisation)
    url = reverse("governance:model-version-create", args=[globex_system.pk])
    for tag in _stolen_tags(acme_checkpoint) + PROBE_TAGS:
        response = client.post(url, {"version": "stolen", "architecture": "ViT-B-32", "pretrained_tag": tag,
                                     "class_names": "cat\ndog", "prompt_templates": "a photo of a {}."})
        assert response.status_code in (200, 400), tag  # the form again, with its error
        assert "Not a pretrained tag of this architecture" in response.content.decode(), tag
    assert not ModelVersion.objects.filter(organisation=globex_system.organisation).exists()


def test_a_known_open_clip_tag_is_still_accepted(world, alice):
    version = services.model_version_create(ai_system=world.system, actor=alice,
                                            data={**BASE, "version": "tagged", "pretrained_tag": "openai"})
    assert version.pretrained_tag == "openai"


def test_a_tag_of_a_custom_architecture_is_refused(world, alice):
    with pytest.raises(ValidationError, match="Not a pretrained tag"):
        services.model_version_create(ai_system=world.system, actor=alice, data={
            **BASE, "architecture": "sectest-demo", "version": "x", "pretrained_tag": "openai",
            "model_config": {"embed_dim": 8, "vision_cfg": {}, "text_cfg": {}}})


@pytest.mark.parametrize("tag", PROBE_TAGS)
def test_the_engine_never_opens_a_tag_as_a_path(tag, monkeypatch):
    opened = []
    monkeypatch.setattr(engine_models, "read_checkpoint", lambda path: opened.append(path))
    with pytest.raises(ModelConfigError, match="is not a pretrained tag"):
        load_clip(ModelSpec("ViT-B-32", pretrained_tag=tag))
    assert opened == []
    assert not hasattr(engine_models, "_looks_like_path")


def _smuggled(world, alice, name: str) -> ModelVersion:
    version = services.model_version_create(ai_system=world.system, actor=alice,
                                            data={**BASE, "version": "smuggled", "pretrained_tag": "openai"})
    ModelVersion.objects.filter(pk=version.pk).update(checkpoint=name, pretrained_tag="")
    version.refresh_from_db()
    return version


@pytest.mark.parametrize("name", ["/etc/hostname", "../../etc/hostname", "checkpoints/999/x.pt",
                                  "checkpoints/2026/12/../../../secret", "datasets/x.zip"])
def test_the_worker_refuses_a_checkpoint_outside_the_organisations_prefix(world, alice, name):
    from robustness.services.loading import CHECKPOINT_UNAVAILABLE, model_spec_for
    from robustness.tasks import model_version_validate

    version = _smuggled(world, alice, name)
    with pytest.raises(CheckpointError) as raised:
        model_spec_for(version)
    assert str(raised.value) == CHECKPOINT_UNAVAILABLE
    assert model_version_validate(version.pk) == "invalid"
    version.refresh_from_db()
    assert CHECKPOINT_UNAVAILABLE in version.status_reason


def test_another_organisations_upload_is_refused_by_the_worker(world, alice, acme_checkpoint, globex_system):
    from robustness.services.loading import CHECKPOINT_UNAVAILABLE, model_spec_for

    stolen = ModelVersion.objects.create(ai_system=globex_system, organisation=globex_system.organisation,
                                         version="stolen", architecture="ViT-B-32",
                                         checkpoint=acme_checkpoint.checkpoint.name)
    with pytest.raises(CheckpointError, match=CHECKPOINT_UNAVAILABLE):
        model_spec_for(stolen)


def test_an_own_upload_of_the_older_layout_still_loads(world, alice, settings):
    from robustness.services.loading import model_spec_for

    legacy = settings.MEDIA_ROOT / "checkpoints" / "2026" / "11" / "old.pt"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"old")
    version = _smuggled(world, alice, "checkpoints/2026/11/old.pt")
    spec, _ = model_spec_for(version)
    assert spec.checkpoint_path == str(legacy.resolve()) and spec.pretrained_tag is None

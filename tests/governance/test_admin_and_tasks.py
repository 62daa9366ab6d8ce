"""Django admin shows the catalogs read-only; the periodic job re-enqueues stale validations."""

from __future__ import annotations

from datetime import timedelta

from celery import current_app
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from governance.models import ModelVersion
from governance.tasks import stale_validations_requeue


def test_the_admin_lists_catalogs_and_offers_no_editing(world):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "a long admin password")
    client = Client()
    client.force_login(admin)
    for model in ("framework", "requirement", "crosswalk", "aisystem", "modelversion", "dataset"):
        assert client.get(f"/admin/governance/{model}/").status_code == 200, model
    assert client.get("/admin/governance/framework/add/").status_code == 403
    assert client.get(f"/admin/governance/requirement/{world.requirement.pk}/delete/").status_code == 403


def test_stale_validations_are_enqueued_again(world, monkeypatch, django_capture_on_commit_callbacks):
    sent: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args, queue: sent.append((name, args)))
    ModelVersion.objects.filter(pk=world.version.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert stale_validations_requeue() == 1
    assert sent == [("robustness.tasks.model_version_validate", [world.version.pk])]

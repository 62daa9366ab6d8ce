"""The risk officer's journey in Chromium, from logging in to the finding a failed threshold opens.

Oscar registers an AI system with a robustness threshold set in advance, classifies it under the
EU AI Act, uploads a tiny open_clip checkpoint and an ImageFolder zip (a real Celery worker
validates both), requests an evaluation, watches its progress bar move, and reads the result and
the finding it opened. Only the page is driven; the database is read to check what it shows.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page

from governance.models.registry import AISystem, ClassificationResult, Dataset, ModelVersion, ValidationStatus
from robustness.engine.checkpoints import save_state_dict_file
from robustness.engine.tiny import TINY_ARCHITECTURE, tiny_model, tiny_model_config
from robustness.models import EvaluationRun, RobustnessAlert, RunStatus
from tests.browser import chromium
from tests.journeys.harness import Journey, journey
from tests.processes import celery_worker

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Workers share two CPU cores with other work: one torch thread each is many times faster.
os.environ.setdefault("ROBUSTNESS_TORCH_THREADS", "1")

SYSTEM = "Weld seam inspector"
CLASSES = ("circle", "square")
IMAGES_PER_CLASS = 32
# 32 batches of two, each attacked by two PGD presets at three ε: several seconds of batches on a
# quiet machine, so that the page's status polls (every 1.5 s) see the bar at two partial values.
EXAMPLES, BATCH_SIZE = 2 * IMAGES_PER_CLASS, 2
ATTACKS, EPSILONS = ("screen-pgd10", "agft-pgd20"), "1/255, 2/255, 4/255"
THRESHOLD = "screen-pgd10 4/255 0.95"  # an untrained model cannot meet it: the run opens a finding
WORKER_MS = 180_000  # validations and the run, on a shared machine


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path) -> Path:
    """Uploads and run files of this test only (run ids restart per test; folders must not collide)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def shape_image(shape: str, index: int) -> bytes:
    """A 32×32 PNG of a circle or a square, its size and place varying with `index`."""
    image = Image.new("RGB", (32, 32), (240, 240, 240))
    inset = 4 + index % 5
    box = (inset, inset + index % 3, 31 - inset, 31 - inset)
    colour = (40 + 6 * index, 80, 200 - 4 * index)
    draw = ImageDraw.Draw(image)
    (draw.ellipse if shape == "circle" else draw.rectangle)(box, fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def checkpoint_file(tmp_path) -> Path:
    path = tmp_path / "uploads" / "weld-inspector-v1.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_state_dict_file(tiny_model(0).state_dict(), path)
    return path


@pytest.fixture
def dataset_zip(tmp_path) -> Path:
    """An ImageFolder zip: one folder per class, IMAGES_PER_CLASS images each."""
    path = tmp_path / "uploads" / "weld-seams.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for shape in CLASSES:
            for index in range(IMAGES_PER_CLASS):
                archive.writestr(f"weld-seams/{shape}/{index:03d}.png", shape_image(shape, index))
    return path


def follow(page: Page, selector: str) -> None:
    """Click a link or submit button and wait for the next page to load (scripts included: leaving
    a page while its deferred script loads aborts the request, which the journey counts as a failure)."""
    with page.expect_navigation():
        page.click(selector)


def row_texts(page: Page, rows: str) -> list[list[str]]:
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in page.locator(rows).all()]


def percent(value: float) -> str:
    """As the run page shows an accuracy (Django's widthratio rounds like Python's round)."""
    return f"{round(value * 100)} %"


def progress_value_above(page: Page, floor: int) -> int:
    """Wait until the run page's progress bar shows a partial value above `floor`; return it."""
    handle = page.wait_for_function(
        """floor => {
             const bar = document.querySelector("[data-run-status-url] [role=progressbar]");
             const value = bar ? Number(bar.getAttribute("aria-valuenow")) : 0;
             return value > floor && value < 100 ? value : null;
           }""", arg=floor, timeout=WORKER_MS)
    return int(handle.json_value())


def test_risk_officer_registers_classifies_uploads_evaluates_and_finds_the_failed_threshold(
        live_server, acme, checkpoint_file, dataset_zip):
    with celery_worker(queues="default,robustness"), chromium() as browser, \
            journey(browser, live_server.url, "risk-officer") as j:
        j.login("oscar")
        j.step("logged-in")
        system = register_system(j)
        classify(j, system)
        upload_model_version(j, checkpoint_file)
        dataset = upload_dataset(j, system, dataset_zip)  # while a worker loads the checkpoint
        version = model_version_validated(j, system, checkpoint_file)
        run = request_evaluation(j, system, version, dataset)
        run = watch_it_finish(j, run)
        results_shown_equal_the_record(j, run)
        finding_opened_is_linked(j, run)
        j.finish()


def register_system(j: Journey) -> AISystem:
    page = j.page
    follow(page, "nav >> text=AI systems")
    follow(page, "text=Register an AI system")
    page.fill("#id_name", SYSTEM)
    page.fill("#id_intended_purpose", "Flags defective weld seams on the assembly line before a person signs off.")
    page.select_option("#id_owner", label="oscar")
    page.check("input[name=operator_roles][value=provider]")
    page.fill("#id_thresholds", THRESHOLD)
    follow(page, "main button.primary")
    page.wait_for_selector(f"h1:text-is('{SYSTEM}')")
    system = AISystem.objects.get(organisation__slug="acme", name=SYSTEM)
    assert system.robustness_thresholds == [{"attack": "screen-pgd10", "epsilon": 4 / 255,
                                             "min_robust_accuracy": 0.95}]
    assert page.url == j.url(system.get_absolute_url())
    assert row_texts(page, "section:has(h2:text('Robustness thresholds')) tbody tr") == [
        ["screen-pgd10", "4/255", "0.95", "—"]]
    j.step("system-registered")
    return system


def classify(j: Journey, system: AISystem) -> None:
    """A safety component of machinery that needs a third-party conformity assessment: Art 6(1)."""
    page = j.page
    follow(page, "text=Classify (EU AI Act)")
    page.check("input[name=prohibited_practices][value=none]")
    page.check("input[name=annex_i_product][value=yes]")
    page.check("input[name=annex_i_third_party_assessment][value=yes]")
    page.check("input[name=annex_i_section_b][value=no]")  # machinery is Annex I Section A
    page.check("input[name=transparency_obligations][value=none]")
    page.check("input[name=general_purpose_model_provider][value=no]")
    follow(page, "button:text('Classify')")
    assert page.url == j.url(system.get_absolute_url())
    assert system.classification.result == ClassificationResult.HIGH_RISK_ANNEX_I
    badge = page.locator("section:has(h2:text('EU AI Act')) .badge")
    assert badge.inner_text() == "High-risk: Annex I product safety (Art 6(1))"
    j.step("classified")


def upload_model_version(j: Journey, checkpoint: Path) -> None:
    page = j.page
    follow(page, "text=Add model version")
    page.fill("#id_version", "v1")
    page.fill("#id_architecture", TINY_ARCHITECTURE)
    page.fill("#id_model_config", json.dumps(tiny_model_config()))
    page.set_input_files("#id_checkpoint", str(checkpoint))
    page.fill("#id_class_names", "\n".join(CLASSES))
    follow(page, "main button.primary")
    assert page.inner_text("h1") == f"{SYSTEM} · v1"
    j.step("model-version-uploaded")


def model_version_validated(j: Journey, system: AISystem, checkpoint: Path) -> ModelVersion:
    page = j.page
    follow(page, f"dd a:text-is('{SYSTEM}')")
    follow(page, "main a:text-is('v1')")
    # The page refreshes itself while a worker loads the checkpoint.
    page.wait_for_selector(".badge[data-status=valid]", timeout=WORKER_MS)
    version = ModelVersion.objects.get(ai_system=system, version="v1")
    assert version.status == ValidationStatus.VALID
    assert version.checkpoint_sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert page.inner_text(".status-reason") == version.status_reason
    assert version.status_reason.startswith(f"Loaded {TINY_ARCHITECTURE} (") and "input 32 px" in version.status_reason
    assert f"SHA-256 {version.checkpoint_sha256}" in page.inner_text("section:has(h2:text('Model'))")
    j.step("model-version-validated")
    return version


def upload_dataset(j: Journey, system: AISystem, archive: Path) -> Dataset:
    page = j.page
    follow(page, f"a:text-is('← {SYSTEM}')")
    follow(page, "text=Upload dataset")
    assert page.locator("#id_ai_system option:checked").inner_text() == SYSTEM  # chosen by the link
    page.fill("#id_name", "Weld seams, held-out shift")
    page.fill("#id_description", "Circles are sound seams, squares defective ones.")
    page.set_input_files("#id_file", str(archive))
    follow(page, "main button.primary")
    assert page.inner_text("h1") == "Weld seams, held-out shift"
    page.wait_for_selector(".badge[data-status=valid]", timeout=WORKER_MS)  # refreshes itself till then
    dataset = Dataset.objects.get(organisation=system.organisation, name="Weld seams, held-out shift")
    assert (dataset.status, dataset.ai_system, dataset.image_count) == (ValidationStatus.VALID, system, EXAMPLES)
    assert dataset.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert page.inner_text(".status-reason") == f"{EXAMPLES} images in 2 classes decoded."
    assert page.inner_text("dt:text('Classes (2)') + dd") == "circle, square"
    j.step("dataset-validated")
    return dataset


def request_evaluation(j: Journey, system: AISystem, version: ModelVersion, dataset: Dataset) -> EvaluationRun:
    page = j.page
    follow(page, f"a:text-is('← {SYSTEM}')")
    follow(page, "text=Robustness runs")
    follow(page, "text=Request an evaluation")
    page.select_option("#id_model_version", label=str(version))
    page.select_option("#id_dataset", label=dataset.name)
    page.select_option("#id_builtin_dataset", "")
    for attack in ATTACKS:
        page.check(f"input[name=attacks][value={attack}]")
    page.fill("#id_epsilons", EPSILONS)
    page.fill("#id_n_examples", str(EXAMPLES))
    page.fill("#id_batch_size", str(BATCH_SIZE))
    j.step("evaluation-request-form")
    follow(page, "main button.primary")
    page.wait_for_selector("[data-run-status-url]")
    run = EvaluationRun.objects.get(ai_system=system)
    assert page.url == j.url(run.get_absolute_url())
    assert (run.model_version, run.dataset, run.requester.username) == (version, dataset, "oscar")
    assert {key: run.config[key] for key in ("attacks", "n_examples", "batch_size", "builtin_dataset")} == {
        "attacks": list(ATTACKS), "n_examples": EXAMPLES, "batch_size": BATCH_SIZE, "builtin_dataset": ""}
    return run


def watch_it_finish(j: Journey, run: EvaluationRun) -> EvaluationRun:
    """The bar moves while the worker evaluates batch by batch; the page reloads itself when done."""
    page = j.page
    first = progress_value_above(page, 0)
    assert page.inner_text("[data-field=status]") == "Running"
    assert page.inner_text("[data-field=percent]") == f"{first} %"
    running = EvaluationRun.objects.get(pk=run.pk)  # attempt and worker are set once, at the claim
    assert page.inner_text("[data-field=attempt]") == f"Attempt 1 · worker {running.worker}" and running.worker
    j.step("evaluation-running")
    later = progress_value_above(page, first)
    assert 0 < first < later < 100, (first, later)
    page.wait_for_selector("svg.chart", timeout=WORKER_MS)
    page.wait_for_load_state()  # the reloaded page's example images too
    run = EvaluationRun.objects.get(pk=run.pk)
    assert (run.status, run.progress) == (RunStatus.SUCCEEDED, 1.0)
    assert page.inner_text("[data-field=status]") == "Succeeded"
    assert page.get_attribute("[data-run-status-url] [role=progressbar]", "aria-valuenow") == "100"
    return run


def results_shown_equal_the_record(j: Journey, run: EvaluationRun) -> None:
    page = j.page
    record: dict[str, Any] = run.result["record"]
    assert (record["n_examples"], record["n_classes"]) == (EXAMPLES, 2)
    clean = record["clean_accuracy"]
    summary = page.inner_text("section:has(h2:text-is('Results')) > p >> nth=0")
    assert summary == (f"Weld seams, held-out shift: {EXAMPLES} examples, 2 classes. Clean accuracy "
                       f"{percent(clean['value'])} (95 % CI {round(clean['low'] * 100)}–"
                       f"{round(clean['high'] * 100)} %).")
    expected = [[item["attack"], item["threat_model"], item["eps_label"], percent(item["robust_accuracy"]["value"]),
                 f"{round(item['robust_accuracy']['low'] * 100)}–{round(item['robust_accuracy']['high'] * 100)} %",
                 percent(item["attack_success_rate"]["value"]),
                 item["worst_class"]["class_name"] if item.get("worst_class") else ""]
                for item in record["results"]]
    assert len(expected) == len(ATTACKS) * 3
    assert row_texts(page, "section:has(h2:text-is('Results')) tbody tr") == expected
    j.step("evaluation-result")


def finding_opened_is_linked(j: Journey, run: EvaluationRun) -> None:
    page = j.page
    alert = RobustnessAlert.objects.select_related("finding").get(evaluation=run)
    finding = alert.finding
    measured = next(item["robust_accuracy"]["value"] for item in run.result["record"]["results"]
                    if item["attack"] == "screen-pgd10" and item["eps_label"] == "4/255")
    assert finding.metadata["failures"][0]["measured"] == measured < 0.95
    link = page.locator("[data-run-findings] a")
    assert link.inner_text() == finding.title == f"Robustness below threshold: {SYSTEM} v1"
    with page.expect_navigation():
        link.click()
    page.wait_for_selector(f"h1:text-is('{finding.title}')")
    assert page.url.endswith(f"/findings/{finding.pk}/")
    assert page.inner_text("p.lede").startswith("High · Open · source robustness-run")
    assert (f"screen-pgd10 at ε = 4/255: measured {measured:.1%}, required at least 95.0%"
            in page.locator("main section.card").first.inner_text())
    j.step("finding")

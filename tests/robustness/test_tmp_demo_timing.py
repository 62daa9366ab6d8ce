import json, shutil, time
from pathlib import Path
import pytest
from django.conf import settings
from robustness.services.demo import DEMO_EVALUATION, DEMO_RETRAINING
from robustness.services.evaluations import evaluation_run_execute
from robustness.services.retraining import retraining_run_execute
from robustness.services.requests import evaluation_run_request, retraining_run_request
from robustness.models import EvaluationRun
from tests.robustness.conftest import make_version
pytestmark = pytest.mark.django_db

def test_demo_timing(system):
    src = Path("var/demo-model/31212d13b7e79661")
    card = json.loads((src / "card.json").read_text())
    target = Path(settings.MEDIA_ROOT) / "checkpoints/demo.safetensors"; target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "model.safetensors", target)
    from robustness.engine.checkpoints import sha256_file
    from robustness.engine import synthetic
    v = make_version(system, label="demo", checkpoint="checkpoints/demo.safetensors", checkpoint_sha256=sha256_file(target),
                     architecture=card["architecture"], model_config=card["model_config"], prompt_templates=card["templates"],
                     class_names=list(synthetic.class_names()))
    run = evaluation_run_request(ai_system=system, model_version=v, actor=None, config=DEMO_EVALUATION)
    t = time.monotonic(); evaluation_run_execute(run_id=run.pk); run.refresh_from_db()
    print(f"\nTIMING demo eval: wall {time.monotonic()-t:.1f}s status {run.status} {run.error}")
    print("clean", run.result["record"]["clean_accuracy"]["value"], [(r["eps_label"], r["robust_accuracy"]["value"]) for r in run.result["record"]["results"]])
    r = retraining_run_request(ai_system=system, model_version=v, actor=None, config=DEMO_RETRAINING)
    t = time.monotonic(); retraining_run_execute(run_id=r.pk); r.refresh_from_db()
    print(f"TIMING demo retrain: wall {time.monotonic()-t:.1f}s status {r.status} {r.error}")
    after = EvaluationRun.objects.get(retraining=r)
    t = time.monotonic(); evaluation_run_execute(run_id=after.pk); after.refresh_from_db()
    print(f"TIMING demo re-eval: wall {time.monotonic()-t:.1f}s status {after.status}")
    print("after clean", after.result["record"]["clean_accuracy"]["value"], [(x["eps_label"], x["robust_accuracy"]["value"]) for x in after.result["record"]["results"]])

"""The typed door (issue #15): requests are cleaned into the engine's frozen configs, and the dicts rows
already store read back into them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from robustness.engine.evaluate import EvaluationConfig
from robustness.engine.finetune import RetrainConfig
from robustness.services.run_requests import evaluation_config_clean
from robustness.services.run_settings import AnchorAnalysisSettings, RetrainingSettings, evaluation_comparable

# As `evaluation_config_clean` and `retraining_config_clean` stored them before the dataclasses.
STORED_EVALUATION = {"attacks": ["screen-pgd10"], "epsilons": [0.00392156862745098, 0.01568627450980392],
                     "n_examples": 24, "batch_size": 8, "seed": 0, "builtin_dataset": "synthetic-held-out",
                     "examples_to_show": 2, "device": "cpu", "split_attacks": False}
STORED_RETRAINING = {"method": "tecoa", "steps": 3, "eps": 0.01568627450980392, "lr": 0.0002, "batch_size": 8,
                     "attack_steps": 1, "warmup_steps": 0, "checkpoint_every": 2, "seed": 4,
                     "builtin_dataset": "synthetic-train", "device": "cpu",
                     "evaluation": {**STORED_EVALUATION, "dataset_id": 12}}


def test_a_request_is_stored_in_the_shape_rows_already_hold():
    request = {"attacks": ["screen-pgd10"], "epsilons": ["4/255", 1 / 255], "n_examples": 24, "batch_size": 8,
               "builtin_dataset": "synthetic-held-out", "examples_to_show": 2, "device": "cpu"}
    assert evaluation_config_clean(request).to_dict() == STORED_EVALUATION
    assert evaluation_config_clean(STORED_EVALUATION) == EvaluationConfig.from_dict(STORED_EVALUATION)


def test_an_epsilon_above_one_half_is_now_accepted_as_the_thresholds_are():
    assert evaluation_config_clean({"epsilons": [0.6]}).epsilons == (0.6,)


@pytest.mark.parametrize(("request_settings", "errors"), [
    ({"epsilons": [0.0]}, {"epsilons": ["ε must lie in (0, 1] (a fraction of the pixel range), got 0.0."]}),
    ({"attacks": ["fgsm"]}, {"attacks": ["Unknown attack presets ['fgsm']; choose from screen-pgd10, agft-pgd20, "
                                         "tecoa-pgd100, cw-linf, aa-apgd, autoattack-standard."]}),
    ({"batch_size": 5000}, {"batch_size": ["batch_size must be a whole number in 1..4096, got 5000."]}),
    ("4/255", {"config": ["settings must be a JSON object."]}),
])
def test_a_bad_request_is_refused_naming_the_setting(request_settings, errors):
    with pytest.raises(ValidationError) as raised:
        evaluation_config_clean(request_settings)
    assert raised.value.message_dict == errors


def test_a_stored_retraining_reads_back_as_the_engine_config_and_its_re_evaluation():
    settings = RetrainingSettings.from_dict(STORED_RETRAINING)
    assert settings.engine == RetrainConfig(method="tecoa", steps=3, eps=4 / 255, lr=2e-4, batch_size=8,
                                            attack_steps=1, warmup_steps=0, checkpoint_every=2, seed=4)
    assert (settings.builtin_dataset, settings.device, settings.evaluation_dataset_id) == ("synthetic-train", "cpu", 12)
    assert settings.evaluation_matches({**STORED_EVALUATION, "examples_to_show": 0})  # pictures do not count
    assert not settings.evaluation_matches({**STORED_EVALUATION, "seed": 1})
    assert not RetrainingSettings.from_dict({**STORED_RETRAINING, "evaluation": {}}).evaluation_matches(
        STORED_EVALUATION)


def test_a_stored_anchor_analysis_reads_back():
    settings = AnchorAnalysisSettings.from_dict({"train_class_names": ["a", "b"], "target_class_names": [],
                                                 "top_k": 3})
    assert settings == AnchorAnalysisSettings(train_class_names=("a", "b"), target_class_names=(), top_k=3)


def test_unreadable_stored_settings_compare_with_nothing():
    assert evaluation_comparable({"epsilons": "x"}) is None
    assert evaluation_comparable(STORED_EVALUATION) == (("screen-pgd10",), (1 / 255, 4 / 255), 24,
                                                        "synthetic-held-out", 0)


def test_a_retraining_request_takes_a_paper_preset_and_any_value_by_hand():
    from robustness.services.run_requests import retraining_config_clean

    frozen = retraining_config_clean({"preset": "agft-paper", "steps": 2000, "warmup_steps": 100,
                                      "attack_step_size": "1/255", "builtin_dataset": "synthetic-train"})
    assert (frozen["method"], frozen["optimizer"], frozen["lr"], frozen["scale"], frozen["ratio"]) == \
        ("agft", "sgd", 4e-4, 180.0, 0.4)
    assert (frozen["steps"], frozen["warmup_steps"], frozen["preset"]) == (2000, 100, "agft-paper")
    assert frozen["attack_step_size"] == pytest.approx(1 / 255)
    assert RetrainingSettings.from_dict(frozen).engine == RetrainConfig.from_preset(
        "agft-paper", steps=2000, warmup_steps=100, attack_step_size=1 / 255)
    plain = retraining_config_clean({"method": "tecoa", "steps": 50, "momentum": 0.5, "optimizer": "sgd",
                                     "schedule": "step", "consistency_weight": 0, "expand_anchors": False})
    assert (plain["steps"], plain["warmup_steps"], plain["lr"], plain["batch_size"], plain["preset"]) == \
        (50, 5, 2e-4, 32, "")
    assert (plain["momentum"], plain["schedule"], plain["consistency_weight"], plain["expand_anchors"]) == \
        (0.5, "step", 0.0, False)


@pytest.mark.parametrize(("request_settings", "field", "words"), [
    ({"preset": "tecoa-2099"}, "preset", "Choose one of tecoa-paper"),
    ({"momentum": 1.5}, "momentum", "momentum must be in [0, 1)"),
    ({"lr": "fast"}, "lr", "lr must be a number"),
    ({"steps": 2.5}, "steps", "steps must be a whole number"),
    ({"schedule": "linear"}, "schedule", "schedule must be warmup-cosine or step"),
    ({"preset": "tecoa-paper", "steps": 10}, "warmup_steps", "warmup_steps must be in [0, steps]"),
    ({"expand_anchors": "maybe"}, "expand_anchors", "expand_anchors must be true or false"),
    ({"attack_step_size": "2/0"}, "attack_step_size", ""),
])
def test_a_bad_retraining_request_is_refused_naming_the_setting(request_settings, field, words):
    from robustness.services.run_requests import retraining_config_clean

    with pytest.raises(ValidationError) as raised:
        retraining_config_clean(request_settings)
    assert field in raised.value.message_dict
    assert words in raised.value.message_dict[field][0]

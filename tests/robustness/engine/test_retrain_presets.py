"""Retraining presets are the papers' settings (reference §2.2, §3.2, §4.1, §4.3), and every value is checked."""

from __future__ import annotations

import pytest

from robustness.engine.finetune import RETRAIN_PRESETS, RetrainConfig, RetrainConfigError, warmup_step

# Written from the reference's tables, not from the code: (method, optimizer, lr, momentum, weight decay,
# batch, warm-up, schedule, ε·255, inner steps, α·255, scale).
PAPERS = {
    "tecoa-paper": ("tecoa", "sgd", 1e-5, 0.9, 0.0, 256, 1000, "warmup-cosine", 1, 2, 1, None),
    "agft-paper": ("agft", "sgd", 4e-4, 0.9, 0.0, 256, 1000, "warmup-cosine", 1, 2, 1, 180.0),
    "fare-paper": ("fare", "adamw", 1e-5, None, 1e-4, 128, 1400, "warmup-cosine", 4, 10, 1, None),
    "alignment-ce-laat": ("alignment-ce", "sgd", 0.05, 0.9, 5e-4, 128, 0, "step", 8, 7, 2, 1.0),
}


@pytest.mark.parametrize("name", PAPERS)
def test_each_paper_preset_is_its_papers_setting(name) -> None:
    method, optimizer, lr, momentum, decay, batch, warmup, schedule, eps, steps, alpha, scale = PAPERS[name]
    config = RetrainConfig.from_preset(name)
    assert (config.method, config.optimizer, config.lr, config.weight_decay, config.batch_size) == \
        (method, optimizer, lr, decay, batch)
    if momentum is not None:
        assert config.momentum == momentum
    assert (config.warmup_steps, config.schedule, config.attack_steps, config.scale, config.preset) == \
        (warmup, schedule, steps, scale, name)
    assert config.eps == pytest.approx(eps / 255) and config.attack_step_size == pytest.approx(alpha / 255)


def test_agft_keeps_its_teacher_ratio_and_the_demo_preset_is_named_as_fast() -> None:
    assert RetrainConfig.from_preset("agft-paper").ratio == 0.4
    assert RetrainConfig.from_preset("alignment-ce-laat").consistency_weight == 1.0
    assert "not a paper's" in RETRAIN_PRESETS["demo-fast"].description
    assert set(RETRAIN_PRESETS) == {*PAPERS, "demo-fast"}


def test_a_preset_takes_overrides_and_still_validates() -> None:
    config = RetrainConfig.from_preset("tecoa-paper", steps=300, warmup_steps=30, lr=2e-5)
    assert (config.steps, config.warmup_steps, config.lr, config.optimizer) == (300, 30, 2e-5, "sgd")
    with pytest.raises(RetrainConfigError, match="warmup_steps must be in") as refused:
        RetrainConfig.from_preset("tecoa-paper", steps=300)  # 1,000 warm-up steps do not fit in 300
    assert refused.value.field == "warmup_steps"


@pytest.mark.parametrize(("field", "value", "words"), [
    ("momentum", 1.5, "momentum must be in [0, 1)"),
    ("weight_decay", -0.1, "weight_decay must be in [0, 1]"),
    ("schedule", "linear", "schedule must be warmup-cosine or step"),
    ("attack_step_size", 0.0, "attack_step_size must be in (0, 1]"),
    ("scale", float("nan"), "scale must be in (0, 1000]"),
    ("ratio", 2.0, "ratio must be in (0, 1]"),
    ("batch_size", True, "batch_size must be a whole number"),
    ("lr", float("inf"), "lr must be in (0, 10]"),
    ("preset", "tecoa-2099", "unknown preset"),
])
def test_nonsense_is_refused_naming_the_setting(field, value, words) -> None:
    with pytest.raises(RetrainConfigError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")) as refused:
        RetrainConfig(**{field: value})
    assert refused.value.field == field


def test_the_step_schedule_is_laats_effective_one() -> None:
    multiplier = warmup_step(0, 100)
    assert [multiplier(step) for step in (0, 59, 60, 99)] == [1.0, 1.0, 0.1, 0.1]
    assert warmup_step(10, 100)(4) == pytest.approx(0.5)

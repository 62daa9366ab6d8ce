"""Attack wrappers: presets, ε handling, ball constraints, seeding and torchattacks pitfalls."""

from __future__ import annotations

import pytest
import torch
import torchattacks

from robustness.engine.attacks import (
    PRESETS,
    AttackConfigError,
    AttackSpec,
    CWLinf,
    batch_seed,
    build_attack,
    format_epsilon,
    parse_attack,
    parse_epsilon,
    preset,
    run_attack,
    threat_model_label,
)
from tests.robustness.engine.tiny_models import self_labelled_images, tiny_classifier

EPS = 4 / 255


@pytest.fixture(scope="module")
def batch() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    classifier = tiny_classifier(0)
    data = self_labelled_images(classifier, 8)
    return classifier, data.images, data.labels


def test_presets_match_the_reference_table() -> None:
    expected = {  # name: (kind, steps, step size at ε=4/255 (None = adaptive), random start, kappa)
        "screen-pgd10": ("pgd", 10, EPS / 4, True),
        "agft-pgd20": ("pgd", 20, 1 / 255, True),
        "tecoa-pgd100": ("pgd", 100, 1 / 255, True),
        "cw-linf": ("cw-linf", 10, EPS / 4, True),
        "aa-apgd": ("aa-apgd", 100, None, False),
        "autoattack-standard": ("aa-standard", 100, None, False),
    }
    assert set(PRESETS) == set(expected)
    for name, (kind, steps, alpha, random_start) in expected.items():
        spec = preset(name)
        assert (spec.kind, spec.steps, spec.random_start, spec.name) == (kind, steps, random_start, name)
        assert spec.step_size(EPS) == (None if alpha is None else pytest.approx(alpha))
    assert preset("cw-linf").kappa == 50.0
    # min(1/255, ε): below 1/255 the step is ε itself
    assert preset("agft-pgd20").step_size(0.5 / 255) == pytest.approx(0.5 / 255)


def test_unknown_preset_and_bad_parameters_are_named() -> None:
    with pytest.raises(AttackConfigError, match="unknown attack preset 'pgd-1000'"):
        preset("pgd-1000")
    with pytest.raises(AttackConfigError, match="unknown attack parameter 'iters'"):
        parse_attack("pgd:iters=40")
    with pytest.raises(AttackConfigError, match="unknown attack 'deepfool'"):
        parse_attack("deepfool")


def test_free_parameters_parse_into_a_spec_without_a_preset_name() -> None:
    spec = parse_attack("pgd:steps=7,alpha=1/2")
    assert (spec.kind, spec.steps, spec.step_size(EPS), spec.preset, spec.name) == ("pgd", 7, EPS / 2, None, "pgd-7")
    assert parse_attack("pgd:steps=3,alpha_max=1/255").step_size(EPS) == pytest.approx(1 / 255)
    assert parse_attack("pgd-l2:steps=5").norm == "L2"
    assert parse_attack("fgsm").name == "fgsm"


def test_epsilon_is_read_as_a_fraction_and_shown_over_255() -> None:
    assert parse_epsilon("4/255") == pytest.approx(4 / 255)
    assert parse_epsilon(" 0.5 ") == 0.5
    assert format_epsilon(4 / 255) == "4/255"
    assert format_epsilon(0.5) == "0.5"
    assert threat_model_label(2 / 255, "Linf") == "L∞ 2/255"
    for bad in ("4/0", "abc", "300/255", "-1/255"):
        with pytest.raises(AttackConfigError):
            parse_epsilon(bad)


@pytest.mark.parametrize(
    "name", ["screen-pgd10", "cw-linf", "fgsm", "pgd-l2:steps=3", "apgd-ce:steps=3", "apgd-t:steps=3", "aa-apgd"]
)
def test_every_attack_stays_in_its_ball_and_in_the_unit_box(batch, name: str) -> None:
    classifier, images, labels = batch
    spec = PRESETS.get(name) or parse_attack(name)
    if spec.kind == "aa-apgd":
        spec = AttackSpec("aa-apgd", steps=3, step_rule="adaptive")
    eps = 0.5 if spec.norm == "L2" else EPS
    adversarial = run_attack(classifier, images, labels, spec, eps, n_classes=4, seed=1)
    delta = (adversarial - images).flatten(1)
    size = delta.norm(dim=1) if spec.norm == "L2" else delta.abs().max(1).values
    assert float(size.max()) <= eps + 1e-6
    assert float(adversarial.min()) >= 0.0 and float(adversarial.max()) <= 1.0
    assert adversarial.shape == images.shape and adversarial.dtype == torch.float32


def test_same_seed_same_perturbation_and_global_rng_untouched(batch) -> None:
    classifier, images, labels = batch
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = run_attack(classifier, images, labels, preset("screen-pgd10"), EPS, n_classes=4, seed=batch_seed(7, 3))
    assert torch.equal(torch.get_rng_state(), before)
    second = run_attack(classifier, images, labels, preset("screen-pgd10"), EPS, n_classes=4, seed=batch_seed(7, 3))
    other = run_attack(classifier, images, labels, preset("screen-pgd10"), EPS, n_classes=4, seed=batch_seed(7, 4))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_apgd_reseeding_does_not_leak_into_the_callers_rng(batch) -> None:
    classifier, images, labels = batch
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    run_attack(classifier, images, labels, parse_attack("apgd-ce:steps=2"), EPS, n_classes=4, seed=0)
    assert torch.equal(torch.rand(3), expected)  # torchattacks' APGD calls torch.manual_seed(self.seed) itself


def test_batch_seed_is_a_pure_function_of_seed_and_batch() -> None:
    assert batch_seed(0, 5) == batch_seed(0, 5)
    assert len({batch_seed(0, b) for b in range(100)} | {batch_seed(1, b) for b in range(100)}) == 200
    assert 0 <= batch_seed(2**40, 10**6) < 2**63


def test_attacks_work_under_no_grad_and_restore_training_mode(batch) -> None:
    classifier, images, labels = batch
    classifier.train()
    with torch.no_grad():
        adversarial = run_attack(classifier, images, labels, preset("screen-pgd10"), EPS, n_classes=4, seed=0)
    assert classifier.training
    classifier.eval()
    assert not torch.equal(adversarial, images)


def test_attacks_refuse_half_precision_inputs(batch) -> None:
    classifier, images, labels = batch
    with pytest.raises(AssertionError, match="fp32"):
        run_attack(classifier, images.half(), labels, preset("screen-pgd10"), EPS, n_classes=4, seed=0)


def test_autoattack_and_apgd_ensemble_set_n_classes_and_fall_back_for_two_classes(batch) -> None:
    classifier = batch[0]
    ensemble = build_attack(classifier, preset("aa-apgd"), EPS, n_classes=4, seed=0)
    assert isinstance(ensemble, torchattacks.MultiAttack)
    apgd, apgd_t = ensemble.attacks
    assert (apgd.loss, apgd.steps, apgd_t.steps, apgd_t.n_target_classes) == ("ce", 100, 100, 3)
    many = build_attack(classifier, preset("aa-apgd"), EPS, n_classes=1000, seed=0)
    assert many.attacks[1].n_target_classes == 9  # reference AutoAttack's top-9 targets, not 999
    two = build_attack(classifier, preset("aa-apgd"), EPS, n_classes=2, seed=0)
    assert isinstance(two, torchattacks.APGD) and two.loss == "ce"
    standard = build_attack(classifier, parse_attack("autoattack"), EPS, n_classes=5, seed=0)
    assert standard.n_classes == 5 and standard._autoattack.attacks[1].n_target_classes == 4
    assert isinstance(build_attack(classifier, parse_attack("autoattack"), EPS, n_classes=2, seed=0), torchattacks.APGD)
    with pytest.raises(AttackConfigError, match="at least 3 classes"):
        build_attack(classifier, parse_attack("apgd-t"), EPS, n_classes=2, seed=0)


def test_our_cw_linf_stays_in_the_linf_ball_where_torchattacks_cw_is_an_l2_attack(batch) -> None:
    classifier, images, labels = batch
    eps = 1 / 255
    library_cw = torchattacks.CW(classifier, c=10.0, kappa=0.0, steps=30, lr=0.05)(images, labels)
    library_linf = (library_cw - images).flatten(1).abs().max(1).values
    assert float(library_linf.max()) > 4 * eps  # L2-shaped: large changes on a few pixels, no L∞ bound
    ours = run_attack(classifier, images, labels, preset("cw-linf"), eps * 4, n_classes=4, seed=0)
    assert float((ours - images).abs().max()) <= 4 * eps + 1e-6
    with torch.no_grad():
        clean_correct = int((classifier(images).argmax(1) == labels).sum())
        attacked_correct = int((classifier(ours).argmax(1) == labels).sum())
    assert attacked_correct < clean_correct


def test_cw_margin_objective_is_minus_relu_of_margin_plus_kappa() -> None:
    attack = CWLinf(torch.nn.Linear(1, 1), eps=0.1, alpha=0.01, steps=1, kappa=50.0)
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 80.0, 10.0]])
    objective = attack.margin_objective(logits, torch.tensor([0, 0]))
    # first: still correct, pushed by the full margin + κ; second: wrong class leads by 80 > κ, done
    assert objective.tolist() == [-(3 - 2 + 50), 0.0]


def test_attacks_ignore_a_callers_autocast(batch) -> None:
    classifier, images, labels = batch
    spec = parse_attack("pgd:steps=2")
    plain = run_attack(classifier, images, labels, spec, EPS, n_classes=4, seed=3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = run_attack(classifier, images, labels, spec, EPS, n_classes=4, seed=3)
    assert torch.equal(plain, under_autocast)


def test_targeted_least_likely_mode_is_passed_to_torchattacks(batch) -> None:
    classifier = batch[0]
    spec = parse_attack("pgd:steps=2,target=least-likely")
    assert spec.name == "pgd-2-targeted-least-likely"
    attack = build_attack(classifier, spec, EPS, n_classes=4, seed=0)
    assert attack.targeted and attack.attack_mode == "targeted(least-likely)"
    with pytest.raises(AttackConfigError, match="only supported for fgsm/pgd/pgd-l2"):
        parse_attack("cw-linf:target=random")


def test_the_standard_autoattack_preset_runs_the_references_four_parts_at_its_counts(batch) -> None:
    """Croce & Hein's standard AutoAttack (RobustBench): APGD-CE and APGD-T at 100 iterations, FAB-T at
    100, Square at 5,000 queries, one restart each, 9 target classes at most."""
    classifier = batch[0]
    standard = build_attack(classifier, preset("autoattack-standard"), EPS, n_classes=1000, seed=0)
    apgd, apgd_t, fab, square = standard.attacks
    assert (type(apgd).__name__, apgd.loss, apgd.steps, apgd.n_restarts) == ("APGD", "ce", 100, 1)
    assert (apgd_t.steps, apgd_t.n_target_classes, apgd_t.n_restarts) == (100, 9, 1)
    assert (type(fab).__name__, fab.steps, fab.multi_targeted, fab.n_target_classes, fab.n_restarts) == \
        ("FAB", 100, True, 9, 1)
    assert (type(square).__name__, square.n_queries, square.n_restarts) == ("Square", 5000, 1)
    two = build_attack(classifier, preset("autoattack-standard"), EPS, n_classes=2, seed=0)
    assert [type(part).__name__ for part in two.attacks] == ["APGD", "Square"]
    words = preset("autoattack-standard").describe(1000)
    assert "RobustBench-comparable" in words and "FAB-T (9 targets) 100 steps" in words
    assert "not the standard version" in preset("aa-apgd").describe(1000)
    targeted = parse_attack("apgd-t").describe(10)
    assert "DLR-targeted" in targeted and "9 target classes" in targeted and "adaptive step" in targeted


def test_the_targeted_dlr_loss_is_defined_at_three_classes() -> None:
    """−(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4)); with 3 classes π4 does not exist and z_π3 stands for both."""
    from robustness.engine.attacks import _APGDT

    attack = _APGDT(torch.nn.Identity(), n_classes=3)
    logits = torch.tensor([[3.0, 1.0, -1.0], [0.5, 2.5, 1.5]])
    labels, targets = torch.tensor([0, 1]), torch.tensor([2, 0])
    expected = torch.tensor([-(3.0 - -1.0) / (3.0 - -1.0), -(2.5 - 0.5) / (2.5 - 0.5)])
    torch.testing.assert_close(attack.dlr_loss_targeted(logits, labels, targets), expected)
    four = torch.tensor([[4.0, 2.0, 1.0, 0.0]])
    reference = -(4.0 - 1.0) / (4.0 - 0.5 * 1.0 - 0.5 * 0.0 + 1e-12)
    torch.testing.assert_close(attack.dlr_loss_targeted(four, torch.tensor([0]), torch.tensor([2])),
                               torch.tensor([reference]))


@pytest.mark.parametrize("name", ["apgd-t:steps=3", "aa-apgd"])
def test_targeted_attacks_run_at_three_classes(name) -> None:
    """torchattacks' APGD-T indexes a 4th class (IndexError at 3); ours runs and stays in the ball.
    (Both AutoAttack builds use the same APGD-T: see the next test; running Square's 5,000 queries
    here would take minutes.)"""
    classifier = tiny_classifier(0, class_names=("red", "green", "blue"))
    data = self_labelled_images(classifier, 6, seed=0)
    spec = parse_attack(name)
    if spec.kind == "aa-apgd":
        spec = AttackSpec("aa-apgd", steps=3, step_rule="adaptive")
    adversarial = run_attack(classifier, data.images, data.labels, spec, EPS, n_classes=3, seed=0)
    assert float((adversarial - data.images).abs().max()) <= EPS + 1e-6
    with torch.no_grad():
        assert int((classifier(adversarial).argmax(1) == data.labels).sum()) <= int(
            (classifier(data.images).argmax(1) == data.labels).sum())


def test_both_autoattacks_use_the_apgd_t_that_is_defined_at_three_classes(batch) -> None:
    from robustness.engine.attacks import _APGDT

    classifier = batch[0]
    library = build_attack(classifier, parse_attack("autoattack"), EPS, n_classes=3, seed=0)
    standard = build_attack(classifier, preset("autoattack-standard"), EPS, n_classes=3, seed=0)
    assert type(library._autoattack.attacks[1]) is _APGDT and type(standard.attacks[1]) is _APGDT
    assert library._autoattack.attacks[1].n_target_classes == standard.attacks[1].n_target_classes == 2

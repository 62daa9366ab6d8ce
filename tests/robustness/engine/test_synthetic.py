"""The synthetic compositional benchmark: deterministic bytes and an honest split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robustness.engine import synthetic
from robustness.engine.synthetic import SyntheticSpec


def test_same_seed_gives_identical_bytes_and_another_seed_does_not() -> None:
    compositions = synthetic.all_compositions()[:4]
    first = synthetic.generate_split(SyntheticSpec(seed=7), "test", compositions, 3)
    again = synthetic.generate_split(SyntheticSpec(seed=7), "test", compositions, 3)
    other = synthetic.generate_split(SyntheticSpec(seed=8), "test", compositions, 3)

    assert first.dataset.pixels.numpy().tobytes() == again.dataset.pixels.numpy().tobytes()
    assert torch.equal(first.attributes, again.attributes)
    assert first.dataset.pixels.numpy().tobytes() != other.dataset.pixels.numpy().tobytes()


def test_splits_hold_different_images_of_the_same_classes() -> None:
    compositions = synthetic.seen_compositions()[:2]
    train = synthetic.generate_split(SyntheticSpec(), "train", compositions, 2)
    test = synthetic.generate_split(SyntheticSpec(), "test", compositions, 2)

    assert torch.equal(train.dataset.labels, test.dataset.labels)
    assert not torch.equal(train.dataset.pixels, test.dataset.pixels)


def test_an_image_does_not_depend_on_what_else_is_generated() -> None:
    alone = synthetic.generate_split(SyntheticSpec(), "validation", synthetic.all_compositions()[5:6], 2)
    together = synthetic.generate_split(SyntheticSpec(), "validation", synthetic.all_compositions()[:6], 3)

    assert torch.equal(alone.dataset.pixels, together.dataset.pixels[15:17])


def test_thirty_six_classes_split_into_27_seen_and_9_held_out() -> None:
    seen, held_out = synthetic.seen_compositions(), synthetic.held_out_compositions()

    assert len(synthetic.all_compositions()) == 36
    assert len(seen) == 27 and len(held_out) == 9
    assert set(seen).isdisjoint(held_out)
    assert set(seen) | set(held_out) == set(synthetic.all_compositions())


def test_every_colour_and_shape_appears_in_seen_classes_and_is_held_out_at_most_twice() -> None:
    seen, held_out = synthetic.seen_compositions(), synthetic.held_out_compositions()

    assert {c.colour for c in seen} == set(synthetic.COLOURS)
    assert {c.shape for c in seen} == set(synthetic.SHAPES)
    assert max(sum(c.colour == colour for c in held_out) for colour in synthetic.COLOURS) == 2
    assert max(sum(c.shape == shape for c in held_out) for shape in synthetic.SHAPES) == 2


def test_images_are_32_pixel_rgb_with_full_space_labels() -> None:
    split = synthetic.generate_split(SyntheticSpec(), "test", synthetic.held_out_compositions(), 2)
    image, label = split.dataset[0]

    assert image.shape == (3, 32, 32)
    assert split.dataset.class_names == synthetic.class_names() and len(split.dataset.class_names) == 36
    assert split.dataset.class_names[label] == "red circle"
    assert split.attributes.shape == (18, 4)


def test_class_names_and_templates_read_naturally() -> None:
    assert synthetic.class_names()[:2] == ("red circle", "red ring")
    assert all("{c}" in template for template in synthetic.TEMPLATES)


def test_captions_name_the_images_attributes_and_say_what_they_claim() -> None:
    rng = np.random.default_rng(0)
    captions = [synthetic.caption([1, 4, 2, 0], rng) for _ in range(50)]

    for text, claim in captions:
        assert "orange star" in text
        assert claim[:2] == (1, 4)
        assert claim[2] in (-1, 2) and (claim[2] == 2) == ("large" in text)
        assert claim[3] in (-1, 0) and (claim[3] == 0) == ("dark background" in text)
    assert {claim[2] for _, claim in captions} == {-1, 2}
    assert {claim[3] for _, claim in captions} == {-1, 0}


def test_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        synthetic.generate_split(SyntheticSpec(), "holdout", synthetic.all_compositions()[:1], 1)


def test_restrict_to_classes_relabels_in_the_order_given() -> None:
    from robustness.engine.data import restrict_to_classes

    held_out = synthetic.held_out_compositions()
    split = synthetic.generate_split(SyntheticSpec(), "test", synthetic.all_compositions(), 1)

    restricted = restrict_to_classes(split.dataset, synthetic.class_names(held_out))

    assert restricted.class_names == synthetic.class_names(held_out)
    assert restricted.labels.tolist() == list(range(9))
    index = synthetic.all_compositions().index(held_out[4])
    assert torch.equal(restricted.pixels[4], split.dataset.pixels[index])

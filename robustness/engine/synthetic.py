"""A synthetic compositional benchmark: coloured shapes on noisy tinted backgrounds.

36 classes (6 colours × 6 shapes), 32×32, generated deterministically from a seed with
Pillow. Nine compositions are held out of pretraining (each colour and each shape held
out at most twice, so every attribute value is seen), which makes zero-shot
classification of the held-out classes a real test of compositional generalisation.

Anchor closeness, as in real CLIP, has to come from the text side. Colours and shapes
include confusable pairs (red/orange/yellow, circle/ring: the closest seen anchors reach
cos ≈ 0.8), every prompt template is a phrase shared by all classes, and pretraining
captions also name attributes the images vary in (size, background). Measured on the demo
model, shared templates alone do not keep anchors together (the loss makes the text tower
template-invariant); what does is training the text tower slowly (`pretrain.py`,
`text_learning_rate_scale`), which keeps the seen anchors within 90° of their mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from robustness.engine.data.dataset import ImageDataset

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.12, 0.10),
    "orange": (0.98, 0.52, 0.06),
    "yellow": (0.95, 0.86, 0.12),
    "green": (0.16, 0.68, 0.20),
    "blue": (0.14, 0.32, 0.90),
    "purple": (0.56, 0.20, 0.76),
}
SHAPES = ("circle", "ring", "square", "triangle", "star", "cross")
SIZES = ("small", "medium", "large")
BACKGROUNDS = ("dark", "light")
# (colour index, shape index): a diagonal plus half of a shifted one; colours and shapes
# each held out at most twice, and every row and column keeps at least four seen classes.
HELD_OUT_PAIRS = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (0, 3), (2, 5), (4, 1))
SPLITS = ("train", "validation", "test")

# Shared by every class: long, so the class words are a small part of each prompt.
TEMPLATES = (
    "a photo of a {c}.",
    "a low resolution photo of a {c}.",
    "a blurry photo of a {c} on a noisy background.",
    "a synthetic image showing a {c} on a grey background.",
    "a simple drawing of a {c}.",
)
CAPTION_TEMPLATES = (*TEMPLATES, "a {c}.", "a {c} on a {b} background.", "a photo of a {c} on a {b} background.")

SUPERSAMPLE = 4


@dataclass(frozen=True)
class Composition:
    """One class: a colour and a shape, named like "red circle"."""

    colour: str
    shape: str

    @property
    def name(self) -> str:
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class SyntheticSpec:
    """Everything that determines the benchmark's bytes."""

    seed: int = 0
    image_size: int = 32
    held_out_pairs: tuple[tuple[int, int], ...] = HELD_OUT_PAIRS


@dataclass(frozen=True, eq=False)
class SyntheticSplit:
    """Images labelled in the full 36-class space, plus each image's attributes.

    `attributes`: int64 (N, 4) = colour, shape, size, background indices.
    """

    dataset: ImageDataset
    attributes: torch.Tensor


def all_compositions() -> tuple[Composition, ...]:
    """The 36 classes in canonical order (colour-major); class index = position here."""
    return tuple(Composition(colour, shape) for colour in COLOURS for shape in SHAPES)


def held_out_compositions(spec: SyntheticSpec = SyntheticSpec()) -> tuple[Composition, ...]:
    colours = tuple(COLOURS)
    return tuple(Composition(colours[c], SHAPES[s]) for c, s in sorted(spec.held_out_pairs))


def seen_compositions(spec: SyntheticSpec = SyntheticSpec()) -> tuple[Composition, ...]:
    held_out = set(held_out_compositions(spec))
    return tuple(composition for composition in all_compositions() if composition not in held_out)


def class_names(compositions: Sequence[Composition] | None = None) -> tuple[str, ...]:
    return tuple(composition.name for composition in (compositions or all_compositions()))


def generate_split(
    spec: SyntheticSpec, split: str, compositions: Sequence[Composition], n_per_class: int
) -> SyntheticSplit:
    """`n_per_class` images of each composition; labels index `all_compositions()`.

    Image i of class k in `split` depends only on (seed, split, k, i), so a split is the
    same whatever other classes or counts are requested alongside it.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    index_of = {composition: index for index, composition in enumerate(all_compositions())}
    images, labels, attributes = [], [], []
    for composition in compositions:
        label = index_of[composition]
        for item in range(n_per_class):
            rng = np.random.default_rng([spec.seed, SPLITS.index(split), label, item])
            image, size, background = render_image(composition, rng, spec.image_size)
            images.append(image)
            labels.append(label)
            attributes.append(_attribute_row(composition, size, background))
    pixels = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    dataset = ImageDataset(pixels, torch.tensor(labels, dtype=torch.int64), class_names())
    return SyntheticSplit(dataset, torch.tensor(attributes, dtype=torch.int64))


def caption(attributes: Sequence[int], rng: np.random.Generator) -> tuple[str, tuple[int, int, int, int]]:
    """A pretraining caption for one image's (colour, shape, size, background) indices.

    Returns the text and what it asserts: (colour, shape, size or -1, background or -1),
    -1 where the caption leaves the attribute out, so the loss can tell which images
    the caption describes correctly.
    """
    colour, shape, size, background = (int(value) for value in attributes)
    words = [tuple(COLOURS)[colour], SHAPES[shape]]
    said_size = rng.random() < 0.5
    if said_size:
        words.insert(0, SIZES[size])
    template = CAPTION_TEMPLATES[int(rng.integers(len(CAPTION_TEMPLATES)))]
    said_background = "{b}" in template
    text = template.replace("{c}", " ".join(words)).replace("{b}", BACKGROUNDS[background])
    return text, (colour, shape, size if said_size else -1, background if said_background else -1)


def render_image(
    composition: Composition, rng: np.random.Generator, image_size: int = 32
) -> tuple[np.ndarray, int, int]:
    """HWC uint8 RGB image, its size index and its background index."""
    background = int(rng.integers(len(BACKGROUNDS)))
    canvas = _background(rng, background, image_size)
    size = int(rng.integers(len(SIZES)))
    radius = image_size * (0.17 + 0.07 * size + 0.05 * rng.random())
    centre = (radius + rng.random() * (image_size - 2 * radius), radius + rng.random() * (image_size - 2 * radius))
    mask = _shape_mask(composition.shape, centre, radius, rng.random() * 2 * math.pi, image_size)
    colour = np.clip(np.array(COLOURS[composition.colour]) + rng.normal(0, 0.04, 3), 0, 1)
    colour = np.clip(colour * rng.uniform(0.85, 1.1), 0, 1)
    image = canvas * (1 - mask[..., None]) + colour * mask[..., None]
    image = image + rng.normal(0, rng.uniform(0.02, 0.07), image.shape)
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8), size, background


def _background(rng: np.random.Generator, background: int, image_size: int) -> np.ndarray:
    grey = rng.uniform(0.2, 0.45) if BACKGROUNDS[background] == "dark" else rng.uniform(0.55, 0.8)
    tint = rng.normal(0, 0.05, 3)
    ramp = np.linspace(-1, 1, image_size)
    direction = rng.normal(0, 0.06, 2)
    gradient = direction[0] * ramp[None, :] + direction[1] * ramp[:, None]
    shaded: np.ndarray = np.clip(grey + tint[None, None, :] + gradient[..., None], 0, 1)
    return shaded


def _shape_mask(shape: str, centre: tuple[float, float], radius: float, angle: float, image_size: int) -> np.ndarray:
    """Anti-aliased coverage (H, W) in [0, 1], drawn at 4× and box-downsampled."""
    big = image_size * SUPERSAMPLE
    canvas = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    cx, cy, r = (value * SUPERSAMPLE for value in (*centre, radius))
    if shape in ("circle", "ring"):
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        if shape == "ring":
            inner = r * 0.55
            draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=0)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, angle), fill=255)
    small = canvas.resize((image_size, image_size), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64) / 255.0


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        points = [(r * 0.8 * math.cos(t), r * 0.8 * math.sin(t)) for t in _angles(4, math.pi / 4)]
        points = [(x * math.sqrt(2), y * math.sqrt(2)) for x, y in points]
    elif shape == "triangle":
        points = [(r * math.cos(t), r * math.sin(t)) for t in _angles(3, -math.pi / 2)]
    elif shape == "star":
        points = [
            (radius * math.cos(t), radius * math.sin(t))
            for index, t in enumerate(_angles(10, -math.pi / 2))
            for radius in ((r if index % 2 == 0 else r * 0.42),)
        ]
    elif shape == "cross":
        arm = r * 0.34
        points = [(arm, -r), (arm, -arm), (r, -arm), (r, arm), (arm, arm), (arm, r),
                  (-arm, r), (-arm, arm), (-r, arm), (-r, -arm), (-arm, -arm), (-arm, -r)]
    else:
        raise ValueError(f"unknown shape {shape!r}")
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in points]


def _angles(count: int, start: float) -> list[float]:
    return [start + 2 * math.pi * index / count for index in range(count)]


def _attribute_row(composition: Composition, size: int, background: int) -> list[int]:
    return [tuple(COLOURS).index(composition.colour), SHAPES.index(composition.shape), size, background]

"""The training glyphs redrawn with another pen: a hairline or a fat marker.

People draw with both. The shared preprocessing brings strokes towards MNIST's width
(``recognizer.preprocess.strokes.normalise_stroke``), but thinning a fat stroke cannot reopen the
loops it closed, and a hairline that lost a faint part does not get it back. So the models must see
what the preprocessing makes of such drawings: each chosen glyph is enlarged, its shape worn away or
grown with a round pen, its edges softened, and the picture goes through ``to_model_input`` again,
exactly as serving would take it.

The pen is this module's own (round, random reach, random softness), not the style matrix's
(``training.style_matrix``: a square filter of fixed reach), so the matrix stays a fair check.
"""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageFilter

from recognizer.preprocess import stroke_width
from recognizer.preprocess.strokes import windowed
from training.data.base import Split, preprocess_all

SCALE = 4
"""Glyphs are redrawn at this many times their 28 px, where a stroke is about 10 px wide."""

THIN, FAT = (0.4, 0.75), (1.4, 2.4)
"""A thin pen draws this share of the glyph's stroke width; a fat one this many times it. Thinner
than 0.4 wears whole strokes away (a 4 becomes a 1), which would teach wrong labels."""

FAT_SHARE = 0.5
"""The share of the redrawn glyphs drawn with a fat pen; the rest get a thin one."""

SOFTNESS = (0.5, 2.0)
"""The redrawn edges are blurred by a Gaussian this wide (pixels at SCALE), as a drawing program's
anti-aliasing or a resize leaves them."""


def redrawn(glyph: np.ndarray, factor: float, softness: float) -> np.ndarray:
    """``glyph`` (28x28 uint8, white on black) at SCALE times its size, its strokes ``factor`` times
    as wide, drawn with a round pen and softened by ``softness``."""
    side = glyph.shape[0] * SCALE
    big = np.asarray(Image.fromarray(np.asarray(glyph, np.uint8)).resize((side, side), Image.BILINEAR))
    shape = big > 127
    reach = int(round(abs(factor - 1.0) * stroke_width(shape) / 2))
    if factor > 1.0:
        shape = np.pad(shape, reach + 2)  # room to grow: the glyph may touch its frame
    shape = round_pen(shape.view(np.uint8), reach, np.maximum if factor > 1.0 else np.minimum)
    picture = Image.fromarray(shape * np.uint8(255)).filter(ImageFilter.GaussianBlur(softness))
    return np.asarray(picture)


def round_pen(shape: np.ndarray, reach: int, op) -> np.ndarray:
    """``shape`` (0/1) grown (op=np.maximum) or worn away (np.minimum) by ``reach`` pixels all round:
    steps of a 3x3 square and a 3x3 cross in turn, whose sum is an octagon, nearly a round pen."""
    for step in range(reach):
        if step % 2 == 0:
            shape = windowed(shape, 3, op)
        else:
            padded = np.pad(shape, 1, mode="edge")
            shape = op(
                op(padded[1:-1, 1:-1], op(padded[:-2, 1:-1], padded[2:, 1:-1])),
                op(padded[1:-1, :-2], padded[1:-1, 2:]),
            )
    return shape


class _LazyRedrawn:
    """Glyphs redrawn only when iterated, so that the preprocessing's worker processes draw them."""

    def __init__(self, glyphs: np.ndarray, factors: np.ndarray, softness: np.ndarray):
        self.glyphs, self.factors, self.softness = glyphs, factors, softness

    def __len__(self) -> int:
        return len(self.glyphs)

    def __getitem__(self, index: slice) -> _LazyRedrawn:
        return _LazyRedrawn(self.glyphs[index], self.factors[index], self.softness[index])

    def __iter__(self):
        for glyph, factor, soft in zip(self.glyphs, self.factors, self.softness):
            yield redrawn(glyph, float(factor), float(soft))


def with_other_pens(train: Split, share: float, seed: int, keep_dots: bool = True) -> Split:
    """``share`` of ``train``'s glyphs (already preprocessed) redrawn with a thin or a fat pen, half
    each, and preprocessed again: extra training images, with the same labels and writers."""
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(train), int(round(share * len(train))), replace=False))
    thin = rng.random(len(chosen)) >= FAT_SHARE
    factors = np.where(thin, rng.uniform(*THIN, len(chosen)), rng.uniform(*FAT, len(chosen)))
    softness = rng.uniform(*SOFTNESS, len(chosen))
    digest = hashlib.sha1(train.x.tobytes()).hexdigest()[:10]
    key = f"pens-{digest}-{share:g}-fat{FAT_SHARE:g}-s{seed}"
    x = preprocess_all(_LazyRedrawn(train.x[chosen], factors, softness), key, keep_dots)
    return Split(x, train.y[chosen], train.writer[chosen], train.source + "+pens")

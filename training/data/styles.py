"""Writing habits that MNIST's American writers rarely have, added to UniPen pen trajectories.

Many hands slash their zeros, cross their sevens and Zs, and start a one with
a long up-stroke (the "continental" one). A model that has hardly seen these
reads a slashed zero as 4 or 8 and a continental one as 7. So extra training
drawings of 0, 1, 7 and Z/z get one of these habits added as pen strokes,
before they are drawn and preprocessed like any other trajectory.

Every function works on page coordinates (y grows downwards) and returns new
strokes; the input is never changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

Strokes = list[np.ndarray]


def _line(a: np.ndarray, b: np.ndarray, n: int = 8) -> np.ndarray:
    return np.linspace(a, b, n)


def _box(strokes: Strokes) -> tuple[np.ndarray, np.ndarray]:
    """Top-left corner and size of the ink; the size is never zero."""
    points = np.concatenate(strokes)
    lo, hi = points.min(0), points.max(0)
    return lo, np.maximum(hi - lo, 1e-6)


def _crossings(strokes: Strokes, y: float) -> list[float]:
    """Where the strokes cross the level ``y``: the x of each crossing."""
    xs = []
    for s in strokes:
        a, b = s[:-1], s[1:]
        cross = ((a[:, 1] - y) * (b[:, 1] - y) <= 0) & (a[:, 1] != b[:, 1])
        t = (y - a[cross, 1]) / (b[cross, 1] - a[cross, 1])
        xs.extend((a[cross, 0] + t * (b[cross, 0] - a[cross, 0])).tolist())
    return xs


def slashed_zero(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A slash through the zero: diagonal (Ø) or upright (ϕ), overshooting the ring a little."""
    lo, size = _box(strokes)
    over = size * rng.uniform(0.05, 0.2, 2)
    if rng.random() < 0.5:
        slash = _line(lo + (size[0] + over[0], -over[1]), lo + (-over[0], size[1] + over[1]))
    else:
        x = lo[0] + size[0] * rng.uniform(0.4, 0.6)
        slash = _line(np.array([x, lo[1] - over[1]]), np.array([x, lo[1] + size[1] + over[1]]))
    return [*strokes, slash]


def crossed_bar(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A short bar across the middle of the character, centred on the ink there (crossed 7 or Z)."""
    lo, size = _box(strokes)
    y = lo[1] + size[1] * rng.uniform(0.45, 0.6)
    crossings = _crossings(strokes, y)
    x = float(np.mean(crossings)) if crossings else lo[0] + size[0] / 2
    half = max(size[0], 0.5 * size[1]) * rng.uniform(0.2, 0.35)
    return [*strokes, _line(np.array([x - half, y]), np.array([x + half, y]))]


def continental_one(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A long up-stroke from the lower left into the top of the one; sometimes a foot as well.

    The up-stroke is steep (25-45 degrees from the upright): a flatter one is
    the top bar of an American seven, and teaching the model otherwise costs
    MNIST sevens (a first version with flags down to 65 degrees doubled 7 -> 1 errors).
    """
    points = np.concatenate(strokes)
    top = points[points[:, 1].argmin()]
    height = _box(strokes)[1][1]
    length, angle = height * rng.uniform(0.25, 0.45), np.radians(rng.uniform(25, 45))
    start = top + (-length * np.sin(angle), length * np.cos(angle))
    out = [_line(start, top), *strokes]
    if rng.random() < 0.3:
        bottom = points[points[:, 1].argmax()]
        half = height * rng.uniform(0.15, 0.3)
        out.append(_line(bottom - (half, 0), bottom + (half, 0)))
    return out


STYLES: dict[str, Callable[[Strokes, np.random.Generator], Strokes]] = {
    "0": slashed_zero,
    "1": continental_one,
    "7": crossed_bar,
    "Z": crossed_bar,
    "z": crossed_bar,
}
"""Which habit each character can get."""

VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]
"""Changes with this file, so that cached drawings made with other habits are not reused."""


def with_style(strokes: list, y_up: bool, label: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The trajectory of ``label`` with its habit added (unchanged if it has none), in its own y direction."""
    flip = np.array([1.0, -1.0 if y_up else 1.0])
    page = [np.asarray(s, dtype=np.float64).reshape(-1, 2) * flip for s in strokes if len(s)]
    if label in STYLES:
        page = STYLES[label](page, rng)
    return [s * flip for s in page]

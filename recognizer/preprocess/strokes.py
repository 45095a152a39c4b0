"""The working copy of the character: resized, and its strokes brought to MNIST's width."""

from __future__ import annotations

import numpy as np
from PIL import Image

WORK_SIZE = 80
"""Long side, in pixels, of the working copy on which strokes are measured and reshaped (4x FIT_BOX)."""

TARGET_STROKE = 10.0
"""Stroke width, in WORK_SIZE pixels, that strokes are brought to: 2.5 px at 28x28.

It is the median of :func:`stroke_width` over the MNIST training set (5th-95th
percentiles: 6.5-16), so that normalised drawings have MNIST's strokes.
``tests/test_preprocess.py`` re-measures it on the shipped MNIST sample.
"""

STROKE_TOLERANCE = 2.5
"""Strokes within this many WORK_SIZE pixels of the target keep their width, as most of MNIST does."""

THICK_STROKES = 0.25
"""Strokes wider than this share of the character's longer side close up its loops. Drawn 60 px tall
with a 30 px brush (a share of about 0.35), test writers' digits read 58% (``brush_grid`` of
``python -m training.evaluate digits --brush-grid 300``), against 95-96% at a share under 0.2."""

MARGIN = 16
"""Margin of background, in WORK_SIZE pixels, around the working copy: thickening never runs off it."""


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float image; area-averaging when shrinking, bilinear when enlarging."""
    h, w = image.shape
    shrinking = height * width < h * w
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32), mode="F")
    return np.array(out.resize((width, height), method), dtype=np.float32)


def restore_hairlines(work: np.ndarray) -> np.ndarray:
    """Bring strokes that area-averaging has dimmed back to full ink.

    Shrinking a big canvas averages a hairline with the paper around it, so
    the whole line comes out grey (0.3, say), and only crossings come out
    darker. Scaling by a typical ink level, not the darkest pixel, restores it.
    """
    strong = work[work > 0.2 * float(work.max())]
    level = float(np.percentile(strong, 60)) if strong.size else 1.0
    return np.clip(work / max(level, 1e-6), 0.0, 1.0)


def stroke_width(mask: np.ndarray) -> float:
    """Estimate the mean stroke width of a binary drawing, in pixels.

    A stroke of length L and width W covers about L*W pixels and has about 2*L
    pixels on its edge, so W is about 2 * area / edge. Cheap, and good enough
    to tell a hairline from a fat brush.
    """
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    edge = area - int(interior.sum())
    return 2.0 * area / max(edge, 1)


def windowed(image: np.ndarray, size: int, op) -> np.ndarray:
    """``op`` over the ``size`` x ``size`` square around each pixel, edges repeated: a grey dilation
    (op=np.maximum) or erosion (np.minimum). For an even size the square reaches one pixel further
    down and right than up and left.

    Separable, and each axis takes windows of 1, 2, 4 ... pixels, each from two of the last, so a
    window of a fifth of a photo costs a handful of array operations, not hundreds.
    """
    out = image
    before, after = (size - 1) // 2, size // 2
    for axis in (0, 1):
        padded = np.pad(out, [(before, after) if d == axis else (0, 0) for d in (0, 1)], mode="edge")
        a = np.moveaxis(padded, axis, 0)
        span = 1
        while 2 * span <= size:  # a[i] becomes op over the original a[i : i + 2 * span]
            a = op(a[:-span], a[span:])
            span *= 2
        n = out.shape[axis]
        out = np.moveaxis(op(a[:n], a[size - span : size - span + n]), 0, axis)
    return out


def normalise_stroke(
    work: np.ndarray,
    width: float | None = None,
    target: float = TARGET_STROKE,
    tolerance: float = STROKE_TOLERANCE,
    margin: int = MARGIN,
) -> np.ndarray:
    """Thicken hairlines and thin fat brush strokes towards ``target`` (default TARGET_STROKE).

    ``work`` is the drawing with ``margin`` pixels of background around it (at WORK_SIZE, for
    one character); ``width`` its stroke_width, if the caller has measured it already.
    """
    if width is None:
        width = stroke_width(work > 0.5)
    gap = target - width
    if width == 0 or abs(gap) <= tolerance:
        return work
    size = min(int(round(abs(gap))) + 1, 2 * margin)
    if gap > 0:
        return windowed(work, size, np.maximum)
    thinned = windowed(work, size, np.minimum)
    # A fat brush can hide thin parts: never erase a stroke altogether.
    if (thinned > 0.5).sum() < 0.25 * (work > 0.5).sum() * target / width:
        return work
    return thinned

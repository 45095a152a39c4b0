"""A line of writing (a number, a word, a sentence) as the line model reads it.

The line model reads white ink on black, LINE_HEIGHT pixels tall and as wide as
the writing: the ink is found as for one character (``ink.ink_map``: either
polarity, alpha, paper and light), cropped to its box, scaled to the height,
and its strokes brought to one width, so that a fat brush and a fine pen look
alike. Training renders every line through :func:`to_line_input` too.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recognizer.preprocess.crop import INK_THRESHOLD, ink_bbox, runs
from recognizer.preprocess.ink import ink_map
from recognizer.preprocess.strokes import normalise_stroke, resize, restore_hairlines

LINE_HEIGHT = 32
"""Height of the line image the model reads; the writing fills INK_HEIGHT of it."""

INK_HEIGHT = 28
"""The ink's box is scaled to this height, with (LINE_HEIGHT - INK_HEIGHT) / 2 of background above
and below."""

SIDE_PAD = 4
"""Background left and right of the ink, in line pixels: the model's first and last steps see an edge."""

MAX_LINE_WIDTH = 1024
"""Wider lines (more than about 40 characters) are squeezed to this width."""

WORK_HEIGHT = 64
"""Height of the working copy on which strokes are measured and brought to LINE_STROKE."""

LINE_STROKE, LINE_STROKE_TOLERANCE = 4.5, 1.5
"""Target stroke width in WORK_HEIGHT pixels (about 2 px in the line image), and the band left alone."""

WORK_MARGIN = 8
"""Background around the working copy, so that thickening never runs off it."""


SPECK = 0.01
"""A piece of ink with less than this share of all the ink is a speck (dust, a stray dot)."""


class LineInput(NamedTuple):
    """The model's input, and where it came from in the picture: enough to map a column back."""

    image: np.ndarray
    """(LINE_HEIGHT, width) uint8, white ink on black."""
    left: float
    """The x in the picture of the ink's left edge."""
    scale: float
    """Line pixels per picture pixel, across (a squeezed line has a smaller one than its height's)."""

    def picture_x(self, line_x: float | np.ndarray) -> float | np.ndarray:
        """The x in the picture of the line image's column ``line_x``."""
        return self.left + (np.asarray(line_x, dtype=np.float64) - SIDE_PAD) / self.scale


def to_line_input(image: np.ndarray) -> LineInput:
    """Turn a picture of a line of writing into the line model's input (see the module's docstring).

    Raises ``NoInkError`` for a blank picture and ``InvalidImageError`` for an array that is not one.
    """
    return line_from_ink(ink_map(image))


def line_from_ink(ink: np.ndarray) -> LineInput:
    """The rest of :func:`to_line_input`, from the ink map (0-1)."""
    top, bottom, left, right = ink_bbox(ink, INK_THRESHOLD)
    crop = ink[top : bottom + 1, left : right + 1]
    h, w = crop.shape
    work_w = max(1, round(w * WORK_HEIGHT / h))
    work = np.pad(restore_hairlines(resize(crop, WORK_HEIGHT, work_w)), WORK_MARGIN)
    work = normalise_stroke(work, None, LINE_STROKE, LINE_STROKE_TOLERANCE, WORK_MARGIN)
    work = work[WORK_MARGIN:-WORK_MARGIN, WORK_MARGIN:-WORK_MARGIN]
    width = min(max(1, round(work_w * INK_HEIGHT / WORK_HEIGHT)), MAX_LINE_WIDTH - 2 * SIDE_PAD)
    line = resize(np.clip(work, 0.0, 1.0), INK_HEIGHT, width)
    pad = (LINE_HEIGHT - INK_HEIGHT) // 2
    out = np.pad(line, ((pad, LINE_HEIGHT - INK_HEIGHT - pad), (SIDE_PAD, SIDE_PAD)))
    image = np.round(np.clip(out, 0.0, 1.0) * 255).astype(np.uint8)
    return LineInput(image, float(left), width / w)


def ink_pieces(ink: np.ndarray) -> list[tuple[int, int]]:
    """The (first, last) columns of each piece of ink between empty columns, left to right, specks
    left out. Separate characters are separate pieces; touching ones are one, and a character
    written in parts side by side is two."""
    found = runs((ink > INK_THRESHOLD).sum(axis=0, dtype=np.int32))
    total = max(1, sum(r.mass for r in found))
    return [(r.start, r.end) for r in found if r.mass >= SPECK * total]


PIECE_MARGIN = 2
"""Empty columns kept on each side of a piece, so that it is read as a drawing with some background."""


def piece_inks(ink: np.ndarray, pieces: list[tuple[int, int]]) -> list[np.ndarray]:
    """Each piece of ``ink`` (float, 0-1), the ink's full height, with PIECE_MARGIN columns of the
    line's ink on either side, for ``Recognizer.predict_inks``."""
    return [ink[:, max(0, a - PIECE_MARGIN) : b + 1 + PIECE_MARGIN] for a, b in pieces]


def piece_images(ink: np.ndarray, pieces: list[tuple[int, int]]) -> list[np.ndarray]:
    """Each piece of ``ink`` (float, 0-1) as a uint8 picture of white ink on black, the ink's full
    height, as a single-character model reads it."""
    return [
        np.round(np.clip(ink[:, max(0, a - PIECE_MARGIN) : b + 1 + PIECE_MARGIN], 0, 1) * 255).astype(
            np.uint8
        )
        for a, b in pieces
    ]

"""The one preprocessing function that training and serving share.

Every image the models ever see, MNIST and FEMNIST digits in training as much as
a fat-brush sketch or a phone photo when serving, goes through
:func:`to_model_input`. It turns a numpy image into the 28x28 picture that
MNIST taught the models to expect: white ink on black, cropped to the ink,
strokes about 2-3 px wide, fitted into 20x20 and centred on its centre of mass.

Its steps live in four modules, in the order they run:

- ``ink.py``: where the ink is, whatever the polarity, paper or light;
- ``lines.py``: the printed lines of ruled or squared paper, and of forms, taken out;
- ``crop.py``: where the character is, less specks of dust and stray dots;
- ``strokes.py``: the working copy, its strokes brought to MNIST's width.

Everything here is a pure function of numpy arrays: no I/O, no state, and the
same output for the same input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recognizer.preprocess.crop import INK_THRESHOLD, character_box, ink_bbox, several_characters
from recognizer.preprocess.ink import (
    MIN_CONTRAST,
    as_float_image,
    cut_sheet,
    desk_sheet,
    hard_shadow,
    ink_map,
    local_paper,
    paper_level,
    paper_region,
    without_grain,
    written_on,
)
from recognizer.preprocess.lines import printed_lines, without_form_lines, without_printed_lines
from recognizer.preprocess.strokes import (
    MARGIN,
    TARGET_STROKE,
    THICK_STROKES,
    WORK_SIZE,
    normalise_stroke,
    resize,
    restore_hairlines,
    stroke_width,
)

__all__ = [
    "FIT_BOX",
    "Reading",
    "INK_THRESHOLD",
    "MIN_CONTRAST",
    "MODEL_SIZE",
    "TARGET_STROKE",
    "THICK_STROKES",
    "WORK_SIZE",
    "as_float_image",
    "centre_by_mass",
    "character_box",
    "cut_sheet",
    "desk_sheet",
    "hard_shadow",
    "ink_bbox",
    "ink_crop",
    "ink_map",
    "local_paper",
    "reading",
    "paper_level",
    "paper_region",
    "printed_lines",
    "readings_of_ink",
    "readings_with_and_without_dot",
    "resize",
    "several_characters",
    "restore_hairlines",
    "stroke_share",
    "stroke_width",
    "to_model_input",
    "without_grain",
    "without_form_lines",
    "without_printed_lines",
    "written_on",
]

MODEL_SIZE = 28
"""Side of the square the models read."""

FIT_BOX = 20
"""The drawing is scaled so that its longer side fills this many pixels, as in MNIST."""


def ink_crop(image: np.ndarray, keep_dots: bool = True) -> np.ndarray:
    """The ink map (0-1) cropped to the character (see character_box): the first step of every reading."""
    ink = ink_map(image)
    return _cropped(ink, character_box(ink, keep_dots=keep_dots))


def _cropped(ink: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = box
    return ink[top : bottom + 1, left : right + 1]


def stroke_share(image: np.ndarray, keep_dots: bool = True) -> float:
    """The strokes' width as a share of the character's longer side: how much a fat brush fills it.

    Above THICK_STROKES the loops of a 0, 6, 8 or 9 close up, and no preprocessing can open them
    again: the app asks people to draw bigger. ``keep_dots`` as in to_model_input. Raises NoInkError
    for a blank image.
    """
    return _model_input_and_stroke_share(ink_crop(image, keep_dots))[1]


def centre_by_mass(glyph: np.ndarray, size: int = MODEL_SIZE) -> np.ndarray:
    """Paste ``glyph`` into a size x size square with its centre of mass at the centre."""
    h, w = glyph.shape
    total = float(glyph.sum())
    ys, xs = np.indices(glyph.shape)
    cy = float((ys * glyph).sum()) / total if total else (h - 1) / 2
    cx = float((xs * glyph).sum()) / total if total else (w - 1) / 2
    top = int(np.clip(round((size - 1) / 2 - cy), 0, size - h))
    left = int(np.clip(round((size - 1) / 2 - cx), 0, size - w))
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + h, left : left + w] = glyph
    return out


class Reading(NamedTuple):
    """What preprocessing makes of a picture: the model's input, and what it saw on the way."""

    model_input: np.ndarray
    """The 28x28 uint8 image, white ink on black."""
    stroke_share: float
    """The strokes' width as a share of the character's longer side (see stroke_share)."""
    several_characters: bool
    """Whether the picture seems to hold more than one character (see crop.several_characters)."""


def to_model_input(image: np.ndarray, keep_dots: bool = True) -> np.ndarray:
    """Turn a drawing, scan or photo into the model's 28x28 uint8 input (white ink on black).

    Steps: find the ink (either polarity, or alpha), crop to it, bring the
    strokes to MNIST width, fit the longer side into 20 px keeping the aspect
    ratio, and put the centre of mass at the centre of 28x28.

    ``keep_dots``: whether ink well above the character may be the dot of an i
    or j (see character_box). False for a model with no i or j.

    Raises ``NoInkError`` for a blank image and ``InvalidImageError`` for an
    array that is not an image.

    It leaves out what ``reading`` notes for the app: training calls it for every image.
    """
    return _model_input_and_stroke_share(ink_crop(image, keep_dots))[0]


def reading(image: np.ndarray, keep_dots: bool = True) -> Reading:
    """to_model_input, with what it measured on the way (the app's cues to ask for a bigger drawing,
    or for one character), so that a caller who wants them all finds the ink once."""
    return readings_of_ink(ink_map(image), keep_dots)[0]


def readings_with_and_without_dot(image: np.ndarray) -> list[Reading]:
    """reading() with what may be an i's or j's dot kept, and, if that kept some ink above the
    character, again without it: one reading or two.

    A speck of dust above a letter looks just like a dot, and kept it shrinks the letter. Only the
    model can say whether the ink under it is the stem of an i or j (``recognizer.labels.keeps_dot``).
    """
    return readings_of_ink(ink_map(image), keep_dots=True)


def readings_of_ink(ink: np.ndarray, keep_dots: bool) -> list[Reading]:
    """The readings of an ink map (0-1) already found: with what may be a dot kept and, if
    ``keep_dots`` and that kept ink above the character, without it. A piece of a line is read from
    the line's ink this way, so its ink is not looked for a second time."""
    boxes = dict.fromkeys(character_box(ink, keep_dots=keep) for keep in (keep_dots, False))
    return [_reading(ink, box) for box in boxes]


def _reading(ink: np.ndarray, box: tuple[int, int, int, int]) -> Reading:
    """The rest of the pipeline, from the ink map (0-1) and the character's box in it."""
    return Reading(*_model_input_and_stroke_share(_cropped(ink, box)), several_characters(ink, box))


def _model_input_and_stroke_share(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """The rest of the pipeline, from the character's ink (0-1), cropped."""
    h, w = crop.shape
    scale = WORK_SIZE / max(h, w)
    work = resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    work = np.pad(restore_hairlines(work), MARGIN)
    width = stroke_width(work > 0.5)
    work = normalise_stroke(work, width)

    top, bottom, left, right = ink_bbox(work, threshold=0.05)
    work = work[top : bottom + 1, left : right + 1]
    h, w = work.shape
    scale = FIT_BOX / max(h, w)
    glyph = resize(work, max(1, round(h * scale)), max(1, round(w * scale)))
    out = centre_by_mass(np.clip(glyph, 0.0, 1.0))
    return np.round(out * 255.0).astype(np.uint8), width / WORK_SIZE

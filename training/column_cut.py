"""The column-cut baseline of issue 26: a line read by today's single-character models.

The ink (found as for one character: ``recognizer.preprocess.ink.ink_map``) is cut at its empty
columns, and each piece is read by the single-character ``Recognizer`` of the same name. Characters
that touch or overlap in x become one piece (one answer for two characters); a character written in
parts side by side becomes two. It is what the app could do before the line model, and the figure
that the line model is measured beside (``training.evaluate_lines``, ``benchmarks.lines``).
"""

from __future__ import annotations

from typing import Any

from recognizer.image_io import load_image
from recognizer.model import Recognizer
from recognizer.preprocess.ink import ink_map
from recognizer.preprocess.text_line import ink_pieces, piece_images


def pieces(image: Any) -> list[tuple[int, int]]:
    """The (first, last) columns of each piece of ink between empty columns, left to right."""
    return ink_pieces(ink_map(load_image(image)))


def read_by_columns(recognizer: Recognizer, image: Any) -> str:
    """The text read by cutting ``image`` at its empty columns and reading each piece with
    ``recognizer``. Raises ``NoInkError`` or ``InvalidImageError`` as ``Recognizer.predict`` does."""
    ink = ink_map(load_image(image))
    crops = piece_images(ink, ink_pieces(ink))
    return "".join(p.label for p in recognizer.predict_batch(crops)) if crops else ""

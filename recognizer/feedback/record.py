"""One piece of user feedback, and the pure functions that turn it into images and table rows.

The same row layout serves the Google Sheet and the CSV export: first the
original app's six columns, then the fields this version adds.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

import numpy as np
from PIL import Image

ORIGINAL_MAX_SIDE = 256
"""The copy of the user's drawing or upload is shrunk to fit in this many pixels."""
LINE_ORIGINAL_MAX_SIDE = 640
"""The same for a line: a 1200x400 canvas of ten characters stays legible at 640x213, about 64 pixels
a character (at 256, about 25). Its PNG of thin strokes is a few kilobytes; the Sheets sync halves it
further if its base64 would pass the cell limit."""
LINE_MODEL = "lines"
"""The ``model`` of feedback on a whole line (a number, word or line read by the line model)."""

COLUMNS = [
    # The original app's columns, in its order.
    "id", "image_png_base64", "predicted_label", "confidence", "correct_label", "timestamp",
    # Added by this version.
    "model", "model_sha256", "correct", "top_k", "model_input_png_base64",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these could be read as a formula by a spreadsheet."""


@dataclass(frozen=True)
class FeedbackRecord:
    """What one user said about one prediction, with everything needed to learn from it."""

    id: str
    created_at: str
    """UTC, ISO 8601."""
    model: str
    model_sha256: str
    predicted: str
    confidence: float
    top_k: list[tuple[str, float]]
    correct: bool
    correct_label: str
    model_input_png: bytes
    """The 28x28 image the model read (for a line, its (32, width) image), white ink on black."""
    original_png: bytes | None
    """The drawing or upload as the user gave it, at most ORIGINAL_MAX_SIDE pixels a side
    (LINE_ORIGINAL_MAX_SIDE for a line)."""
    reader: str | None = None
    """For a line (model ``"lines"``): the alphabet it was read with (digits, letters, characters).
    None for a single character, whose ``model`` already says it."""


def encode_png(image: np.ndarray, max_side: int | None = None) -> bytes:
    """PNG bytes of a (H, W), (H, W, 3) or (H, W, 4) image, shrunk to ``max_side`` if given."""
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(a * (255 if a.dtype == bool or a.max(initial=0) <= 1 else 1), 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"not an image: array of shape {a.shape}")
    im = Image.fromarray(a)
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """The pixels of PNG bytes, as stored (a model input comes back as uint8 (28, 28))."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def shrink_png(data: bytes) -> bytes | None:
    """The PNG at half its size, or None once it would be smaller than 16 pixels a side."""
    with Image.open(io.BytesIO(data)) as im:
        if min(im.size) < 32:
            return None
        im = im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        return buf.getvalue()


def b64(data: bytes | None) -> str:
    return base64.b64encode(data).decode("ascii") if data else ""


def safe_text(value: str) -> str:
    """Neutralise a text cell that a spreadsheet could take for a formula, by a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def model_cell(record: FeedbackRecord) -> str:
    """The model column's text: the model, and for a line its reader ("lines/digits"), so that a line's
    alphabet reaches the sheet without a column that existing sheets lack."""
    return record.model if record.reader is None else f"{record.model}/{record.reader}"


def as_row(record: FeedbackRecord) -> list:
    """The record as one table row in COLUMNS order: images as base64 PNG, every text cell safe."""
    row = [
        record.id,
        b64(record.original_png),
        record.predicted,
        round(float(record.confidence), 6),
        record.correct_label,
        record.created_at,
        model_cell(record),
        record.model_sha256,
        bool(record.correct),
        json.dumps([[label, round(float(p), 6)] for label, p in record.top_k]),
        b64(record.model_input_png),
    ]
    return [safe_text(v) if isinstance(v, str) else v for v in row]

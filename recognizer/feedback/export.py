"""The collected feedback as a training set: arrays (npz) or one CSV row a record.

npz keys: ``x`` uint8 (N, 28, 28) model inputs, ``y`` correct labels as strings,
``model``, ``id``, ``predicted``, ``correct`` (was the guess right) and ``created_at``.

Feedback on lines (model ``"lines"``) is exported on its own (``--model lines``), since its images
differ in width: ``x`` uint8 (N, 32, W_max), each line at the left and zero-padded (background) to the
widest, ``width`` (N,) its own width, ``y`` the texts, ``reader`` the alphabet each was read with, and
the other keys as above. An npz export of every model leaves the lines out (and says so).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from recognizer.feedback.record import COLUMNS, LINE_MODEL, FeedbackRecord, as_row, decode_png
from recognizer.feedback.store import FILENAME, FeedbackStore

LINE_HEIGHT = 32
"""The height of a line model's input (``recognizer.preprocess.text_line.LINE_HEIGHT``)."""


def to_arrays(records: Iterable[FeedbackRecord]) -> dict[str, np.ndarray]:
    """Single-character records as arrays. Raises ValueError for a line, whose image is wider."""
    records = list(records)
    if any(r.model == LINE_MODEL for r in records):
        raise ValueError("feedback on lines cannot share an array with single characters: "
                         f"export it on its own (--model {LINE_MODEL})")
    x = [decode_png(r.model_input_png) for r in records]
    return {
        "x": np.stack(x).astype(np.uint8) if x else np.zeros((0, 28, 28), np.uint8),
        **_common(records),
    }


def line_arrays(records: Iterable[FeedbackRecord]) -> dict[str, np.ndarray]:
    """Feedback on lines as arrays (see the module's docstring), also when there is none."""
    records = list(records)
    images = [decode_png(r.model_input_png) for r in records]
    widths = np.array([im.shape[1] for im in images], dtype=np.int64)
    x = np.zeros((len(images), LINE_HEIGHT, int(widths.max(initial=0))), np.uint8)
    for k, im in enumerate(images):
        x[k, :, : im.shape[1]] = im
    return {
        "x": x,
        "width": widths,
        **_common(records),
        "reader": np.array([r.reader or "" for r in records], dtype=str),
    }


def _common(records: list[FeedbackRecord]) -> dict[str, np.ndarray]:
    return {
        "y": np.array([r.correct_label for r in records], dtype=str),
        "model": np.array([r.model for r in records], dtype=str),
        "id": np.array([r.id for r in records], dtype=str),
        "predicted": np.array([r.predicted for r in records], dtype=str),
        "correct": np.array([r.correct for r in records], dtype=bool),
        "created_at": np.array([r.created_at for r in records], dtype=str),
    }


def write_npz(records: Iterable[FeedbackRecord], out: str | Path, model: str | None = None) -> int:
    """Write ``model``'s records (all single-character records when None: lines are left out) to
    an npz; returns how many."""
    records = [r for r in records if (r.model == model if model else r.model != LINE_MODEL)]
    arrays = line_arrays(records) if model == LINE_MODEL else to_arrays(records)
    np.savez_compressed(out, **arrays)
    return len(arrays["y"])


def write_csv(records: Iterable[FeedbackRecord], out: str | Path) -> int:
    """One row a record in the Sheets layout; images as base64 PNG, text cells safe for spreadsheets."""
    n = 0
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow(as_row(record))
            n += 1
    return n


def load_arrays(source: str | Path, model: str | None = None) -> dict[str, np.ndarray]:
    """Feedback arrays of ``model`` from a data folder, its SQLite file or an exported .npz. Without
    ``model``, every record of a store on single characters (lines need ``model="lines"``)."""
    source = Path(source)
    if source.suffix == ".npz":
        with np.load(source) as data:
            arrays = {k: data[k] for k in data.files}
        keep = arrays["model"] == model if model else np.ones(len(arrays["y"]), bool)
        return {k: v[keep] for k, v in arrays.items()}
    directory = source.parent if source.name == FILENAME else source
    if not (directory / FILENAME).exists():
        raise FileNotFoundError(f"no feedback store ({FILENAME}) in {directory}")
    store = FeedbackStore(directory)
    try:
        records = store.records(model)
        if model == LINE_MODEL:
            return line_arrays(records)
        return to_arrays(r for r in records if r.model != LINE_MODEL)
    finally:
        store.close()

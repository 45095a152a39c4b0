"""The collected feedback as a training set: arrays (npz) or one CSV row a record.

npz keys: ``x`` uint8 (N, 28, 28) model inputs, ``y`` correct labels as strings,
``model``, ``id``, ``predicted``, ``correct`` (was the guess right) and ``created_at``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from recognizer.feedback.record import COLUMNS, FeedbackRecord, as_row, decode_png
from recognizer.feedback.store import FILENAME, FeedbackStore


def to_arrays(records: Iterable[FeedbackRecord]) -> dict[str, np.ndarray]:
    records = list(records)
    x = [decode_png(r.model_input_png) for r in records]
    return {
        "x": np.stack(x).astype(np.uint8) if x else np.zeros((0, 28, 28), np.uint8),
        "y": np.array([r.correct_label for r in records], dtype=str),
        "model": np.array([r.model for r in records], dtype=str),
        "id": np.array([r.id for r in records], dtype=str),
        "predicted": np.array([r.predicted for r in records], dtype=str),
        "correct": np.array([r.correct for r in records], dtype=bool),
        "created_at": np.array([r.created_at for r in records], dtype=str),
    }


def write_npz(records: Iterable[FeedbackRecord], out: str | Path) -> int:
    arrays = to_arrays(records)
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
    """Feedback arrays of ``model`` (or all) from a data folder, its SQLite file or an exported .npz."""
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
        return to_arrays(store.records(model))
    finally:
        store.close()

"""What the app calls: validate a piece of feedback, store it durably, and let Sheets catch up later.

    service = FeedbackService.from_env()
    record_id = service.submit(model_name, model_sha256, labels, prediction, correct, correct_label, image)
    record_id = service.submit_line(reader_name, line_model_sha256, reading, correct, correct_text, image)
    service.status()   # {"stored", "pending", "sheets", "last_error", "last_sync"}
    service.close()

``submit`` only writes to the local SQLite file (a few milliseconds); the network
is left to a background worker, so a slow or broken Google Sheets never slows a
user down and never loses what they sent.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recognizer.feedback.record import (
    LINE_MODEL,
    LINE_ORIGINAL_MAX_SIDE,
    ORIGINAL_MAX_SIDE,
    FeedbackRecord,
    encode_png,
)
from recognizer.feedback.store import FeedbackStore, utc_now
from recognizer.labels import MODEL_LABELS
from recognizer.model import Prediction

if TYPE_CHECKING:  # the text reader pulls in the interpreter; the service only reads its result
    from recognizer.text_reader import TextReading

log = logging.getLogger(__name__)

DEFAULT_DIR = "data/feedback"
SPACES_DATA = Path("/data")
"""Where Hugging Face Spaces mounts persistent storage (the rest of a Space's disk is wiped on restart)."""
SPACES_SUBDIR = "feedback"


def feedback_dir(
    environ: Mapping[str, str] = os.environ, data_root: Path | None = None
) -> tuple[Path, str | None]:
    """The feedback data folder, and why it is that one (None when HWR_FEEDBACK_DIR chose it).

    $HWR_FEEDBACK_DIR always wins; else ``<data_root>/feedback`` when ``data_root``
    (default :data:`SPACES_DATA`, /data) is a writable folder, as on a Space with
    persistent storage; else ./data/feedback.
    """
    if environ.get("HWR_FEEDBACK_DIR"):
        return Path(environ["HWR_FEEDBACK_DIR"]), None
    root = SPACES_DATA if data_root is None else Path(data_root)
    if root.is_dir() and os.access(root, os.W_OK | os.X_OK):
        why = (f"{root} exists: persistent storage on Hugging Face Spaces, kept across restarts; "
               "HWR_FEEDBACK_DIR is not set")
        return root / SPACES_SUBDIR, why
    if root.is_dir():
        return Path(DEFAULT_DIR), f"{root} exists but is not writable; HWR_FEEDBACK_DIR is not set"
    return Path(DEFAULT_DIR), f"no {root} folder (persistent storage) and HWR_FEEDBACK_DIR is not set"


class InvalidLabelError(ValueError):
    """The correct label given is not one the model knows; the message can be shown to the user as is."""


def describe_labels(labels: Sequence[str]) -> str:
    """A short list of labels, with runs of consecutive characters joined: '0-9, A-Z, a-z'."""
    runs: list[list[str]] = []
    for label in labels:
        if runs and len(label) == 1 == len(runs[-1][1]) and ord(label) == ord(runs[-1][1]) + 1:
            runs[-1][1] = label
        else:
            runs.append([label, label])
    return ", ".join(a if a == b else f"{a}-{b}" for a, b in runs)


def checked_label(labels: Sequence[str], predicted: str, correct: bool, correct_label: str | None) -> str:
    """The label to store: the prediction when it was right, else the user's label if the model knows it."""
    if correct:
        return predicted
    label = (correct_label or "").strip()
    if not label:
        raise InvalidLabelError("Please type the correct character, so the model can learn from its mistake.")
    if label not in labels:
        shown = f"“{label}” is" if label.isalnum() and len(label) <= 10 else "That is"
        known = describe_labels(labels)
        raise InvalidLabelError(f"{shown} not a character this model knows. Type one of {known}.")
    if label == predicted:
        raise InvalidLabelError(
            f"You said the guess “{predicted}” was wrong but typed the same character. "
            "Type the character you meant, or mark the guess as right."
        )
    return label


MAX_LINE_LENGTH = 40
"""The longest text a line's feedback may give: the line model was trained on lines of at most 40
characters (``training.data.text_lines.MAX_TEXT``), and a longer text than fits a 1200-pixel canvas
at a legible size is more likely a paste than a reading of the drawing."""


def checked_text(reader_name: str, predicted: str, correct: bool, correct_text: str | None) -> str:
    """The text to store for a line: the reading when it was right, else the user's text, tidied
    (stripped, single spaces) and checked against the reader's alphabet."""
    if correct:
        return predicted
    labels = MODEL_LABELS[reader_name]
    text = re.sub(r"\s+", " ", correct_text or "").strip()
    if not text:
        raise InvalidLabelError("Please type the correct text, so the model can learn from its mistake.")
    if len(text) > MAX_LINE_LENGTH:
        raise InvalidLabelError(
            f"That text is {len(text)} characters long; the line model reads at most {MAX_LINE_LENGTH}. "
            "Type what the drawing says, or draw a shorter line."
        )
    bad = sorted({c for c in text if c != " " and c not in labels}, key=text.index)
    if bad:
        shown = " ".join(f"“{c}”" if c.isprintable() else repr(c) for c in bad[:10])
        which = "is not a character" if len(bad) == 1 else "are not characters"
        raise InvalidLabelError(
            f"{shown} {which} this model reads. Type only {describe_labels(labels)} and spaces."
        )
    if text == predicted:
        raise InvalidLabelError(
            f"You said the reading “{predicted}” was wrong but typed the same text. "
            "Type the text you meant, or mark the reading as right."
        )
    return text


class FeedbackService:
    """Stores feedback in a :class:`FeedbackStore` and, if given one, wakes a Sheets sync worker."""

    def __init__(self, store: FeedbackStore, sync=None):
        self.store = store
        self.sync = sync
        """A started ``recognizer.feedback.sheets.SheetSync``, or None when Sheets is not configured."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] = os.environ, data_root: Path | None = None
    ) -> FeedbackService:
        """Store in :func:`feedback_dir` ($HWR_FEEDBACK_DIR, else /data/feedback on a Space with
        persistent storage, else ./data/feedback); sync to Sheets if credentials are set."""
        from recognizer.feedback import sheets

        directory, why = feedback_dir(environ, data_root)
        if why is not None:  # chosen here, not by the operator: say where and why, once
            if environ.get("SPACE_ID") and directory == Path(DEFAULT_DIR):  # a Space, no persistent storage
                log.warning("feedback: storing feedback in %s (%s): on this Space, records not yet synced "
                            "are lost when it restarts", directory, why)
            else:
                log.info("feedback: storing feedback in %s (%s)", directory, why)
        store = FeedbackStore(directory)
        sync = sheets.sync_from_env(store, environ)
        if sync is not None:
            sync.start()
        return cls(store, sync)

    def submit(
        self,
        model_name: str,
        model_sha256: str,
        labels: Sequence[str],
        prediction: Prediction,
        correct: bool,
        correct_label: str | None,
        original_image: np.ndarray | None,
    ) -> str:
        """Store one piece of feedback durably and return its id. Raises InvalidLabelError for a bad label."""
        label = checked_label(labels, prediction.label, correct, correct_label)
        return self._add(
            original_image,
            ORIGINAL_MAX_SIDE,
            model=model_name,
            model_sha256=model_sha256,
            predicted=prediction.label,
            confidence=float(prediction.confidence),
            top_k=[(str(k), float(p)) for k, p in prediction.top_k],
            correct=bool(correct),
            correct_label=label,
            model_input_png=encode_png(prediction.input_for(label)),
        )

    def submit_line(
        self,
        reader_name: str,
        model_sha256: str,
        reading: TextReading,
        correct: bool,
        correct_text: str | None,
        original_image: np.ndarray | None,
    ) -> str:
        """Store feedback on a line reading (a number, word or line); returns the record id.
        Raises InvalidLabelError (message written for people) for a bad text.

        The record's model is ``"lines"`` (so Sheets gives lines their own worksheet) and its reader
        (``reader_name``, the alphabet the reading was restricted to) is kept beside it."""
        if reader_name not in MODEL_LABELS:
            raise ValueError(f"Unknown reader {reader_name!r}: use one of {', '.join(MODEL_LABELS)}")
        text = checked_text(reader_name, reading.text, correct, correct_text)
        return self._add(
            original_image,
            LINE_ORIGINAL_MAX_SIDE,
            model=LINE_MODEL,
            model_sha256=model_sha256,
            predicted=reading.text,
            confidence=float(reading.confidence),
            top_k=[(reading.text, float(reading.confidence))],
            correct=bool(correct),
            correct_label=text,
            model_input_png=encode_png(np.asarray(reading.model_input, np.uint8)),
            reader=reader_name,
        )

    def _add(self, original_image: np.ndarray | None, max_side: int, **fields) -> str:
        """Store a record of ``fields`` with a new id, the time and the drawing shrunk to ``max_side``,
        wake the sync, and return the id."""
        original = None
        if original_image is not None:
            try:
                original = encode_png(original_image, max_side)
            except ValueError as e:  # keep the feedback even if the drawing cannot be kept
                log.warning("feedback: original image not stored: %s", e)
        record = FeedbackRecord(id=str(uuid.uuid4()), created_at=utc_now(), original_png=original, **fields)
        self.store.add(record)
        if self.sync is not None:
            self.sync.wake()
        return record.id

    def status(self) -> dict:
        """Counts and sync health, for the app's footer or a health endpoint.

        ``pending`` counts records not yet in the sheet; with Sheets disabled they
        wait locally and are sent once it is configured. ``parked`` counts records
        that Sheets refused on their own (kept here; see ``requeue`` in the CLI).
        """
        return {
            "stored": self.store.count(),
            "pending": self.store.pending_count(),
            "parked": len(self.store.parked()),
            "sheets": "enabled" if self.sync is not None else "disabled",
            "last_error": self.sync.last_error if self.sync is not None else None,
            "last_sync": self.sync.last_sync if self.sync is not None else None,
        }

    def close(self, timeout: float = 2.0) -> None:
        """Stop the sync worker, after one last attempt of at most ``timeout`` seconds to flush."""
        if self.sync is not None:
            self.sync.stop(timeout)
        self.store.close()

"""The Recognizer: a committed int8 TFLite model, its metadata, and the shared preprocessing.

    rec = Recognizer.load("digits")
    p = rec.predict(image)      # p.label, p.confidence, p.top_k, p.model_input

Thread-safe: each thread gets its own interpreter (they are small, about the
size of the model file), so concurrent requests never wait on one another.
``benchmarks/`` compares this with a single interpreter behind a lock.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.image_io import load_image
from recognizer.interpreter import interpreter_class
from recognizer.labels import DOTTED, has_dots, keeps_dot
from recognizer.preprocess import Reading, reading, readings_of_ink, readings_with_and_without_dot

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
MODEL_NAMES = ("digits", "letters", "characters")


@dataclass(frozen=True)
class Prediction:
    """What the model read: its best label, how sure it is, the runners-up, and what it saw."""

    label: str
    confidence: float
    top_k: list[tuple[str, float]]
    model_input: np.ndarray = field(repr=False)
    """The 28x28 uint8 image (white ink on black) that the model read."""
    stroke_share: float = field(default=0.0, repr=False)
    """The strokes' width as a share of the character's size: over THICK_STROKES, a small character
    drawn with a fat brush, whose loops may have closed up (``recognizer.preprocess.stroke_share``)."""
    several_characters: bool = field(default=False, repr=False)
    """Whether the picture seems to hold more than one character side by side, of which the model
    read one, or a squeeze of both (``recognizer.preprocess.several_characters``)."""
    dotted_input: np.ndarray | None = field(default=None, repr=False)
    """The reading with the ink above the character as its dot, where the model chose to read
    it without (``Recognizer._with_dot_or_not``); None otherwise."""

    def as_dict(self) -> dict[str, float]:
        """{label: confidence} for the top k, the shape ``gr.Label`` takes."""
        return dict(self.top_k)

    def input_for(self, label: str) -> np.ndarray:
        """The 28x28 image to learn ``label`` from, for feedback and retraining.

        What the model read, except for an i or j whose dot it left out: learning the
        bare stem as an i would teach the model to see dots where there are none."""
        if label in DOTTED and self.dotted_input is not None:
            return self.dotted_input
        return self.model_input


class Recognizer:
    """One model. Load it with :meth:`load`; predict with :meth:`predict` or :meth:`predict_batch`."""

    def __init__(self, model_path: str | Path, metadata: dict, num_threads: int = 1):
        self.model_path = Path(model_path)
        self.metadata = metadata
        self.name: str = metadata.get("name", self.model_path.stem)
        self.labels: list[str] = list(metadata["labels"])
        self.keep_dots = has_dots(self.labels)
        """Whether ink well above a character may be its dot (models with an i or j)."""
        self._model_bytes = self.model_path.read_bytes()
        self.sha256 = hashlib.sha256(self._model_bytes).hexdigest()
        self._num_threads = num_threads
        self._local = threading.local()
        self.interpreter_package = interpreter_class()[1]
        self._interpreter(1)  # fail now, not on the first request, if the model is broken

    @classmethod
    def load(
        cls, name: str = "digits", models_dir: str | Path | None = None, num_threads: int = 1
    ) -> Recognizer:
        """Load ``models/<name>.tflite`` with its ``<name>.json`` metadata.

        ``name`` may also be a path to a ``.tflite`` file with its JSON beside it.
        """
        path = Path(name)
        if path.suffix != ".tflite":
            path = Path(models_dir or MODELS_DIR) / f"{name}.tflite"
        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            raise FileNotFoundError(f"Model {name!r} not found: expected {path} and {meta_path}")
        return cls(path, json.loads(meta_path.read_text()), num_threads)

    # -- inference ---------------------------------------------------------------------------

    def _interpreter(self, batch: int):
        """This thread's interpreter, with its input resized to ``batch`` images."""
        local = self._local
        if getattr(local, "interpreter", None) is None:
            Interpreter, _ = interpreter_class()
            local.interpreter = Interpreter(model_content=self._model_bytes, num_threads=self._num_threads)
            local.interpreter.allocate_tensors()
            local.batch = 1
            inp = local.interpreter.get_input_details()[0]
            out = local.interpreter.get_output_details()[0]
            local.inp, local.out = inp, out
        if local.batch != batch:
            local.interpreter.resize_tensor_input(local.inp["index"], [batch, 28, 28, 1])
            local.interpreter.allocate_tensors()
            local.batch = batch
        return local.interpreter

    def probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) for preprocessed 28x28 uint8 images (N, 28, 28)."""
        x = np.asarray(model_inputs, dtype=np.float32).reshape(-1, 28, 28, 1) / 255.0
        interpreter = self._interpreter(len(x))
        inp, out = self._local.inp, self._local.out
        scale, zero = inp["quantization"]
        if inp["dtype"] != np.float32:
            info = np.iinfo(inp["dtype"])
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(inp["dtype"])
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"]).astype(np.float32)
        scale, zero = out["quantization"]
        if out["dtype"] != np.float32:
            y = (y - zero) * scale
        y = np.clip(y, 0.0, None)
        return y / np.maximum(y.sum(axis=1, keepdims=True), 1e-9)

    def _prediction(
        self, probs: np.ndarray, read: Reading, top_k: int, dotted_input: np.ndarray | None = None
    ) -> Prediction:
        order = np.argsort(-probs, kind="stable")[:top_k]
        top = [(self.labels[i], float(probs[i])) for i in order]
        return Prediction(
            top[0][0], top[0][1], top, read.model_input, read.stroke_share, read.several_characters,
            dotted_input,
        )

    def _readings(self, image: Any) -> list[Reading]:
        """One reading, or for a model with an i or j and ink above the character, two: with that
        ink as its dot and without (see :meth:`_with_dot_or_not`)."""
        image = load_image(image)
        if self.keep_dots:
            return readings_with_and_without_dot(image)
        return [reading(image, keep_dots=False)]

    def _ink_readings(self, ink: np.ndarray) -> list[Reading]:
        """As :meth:`_readings`, for an ink map already found."""
        return readings_of_ink(np.asarray(ink, np.float32), self.keep_dots)

    def _with_dot_or_not(self, with_dot: np.ndarray, without_dot: np.ndarray) -> int:
        """0 to keep the reading with the dot, 1 for the one without: a dot only sits on a stem."""
        labels = self.labels[int(with_dot.argmax())], self.labels[int(without_dot.argmax())]
        return 0 if keeps_dot(*labels) else 1

    def preprocess(self, image: Any) -> np.ndarray:
        """The 28x28 uint8 image the model reads for ``image`` (any accepted input).

        Where ink above a letter may be its dot, the model itself tells whether it is, so this
        then runs the model too."""
        readings = self._readings(image)
        if len(readings) == 1:
            return readings[0].model_input
        probs = self.probabilities(np.stack([read.model_input for read in readings]))
        return readings[self._with_dot_or_not(*probs)].model_input

    def predict(self, image: Any, top_k: int = 5) -> Prediction:
        """Read one character. Raises ``NoInkError`` or ``InvalidImageError`` for bad input."""
        return self.predict_batch([image], top_k)[0]

    def predict_batch(self, images: Sequence[Any], top_k: int = 5) -> list[Prediction]:
        """Read many characters with one interpreter call. Any bad image raises, as in :meth:`predict`."""
        return self._predicted([self._readings(image) for image in images], top_k)

    def predict_inks(self, inks: Sequence[np.ndarray], top_k: int = 5) -> list[Prediction]:
        """predict_batch for ink maps already found (float, 0 background to 1 ink): the pieces of a
        line of writing, whose ink was found once for the whole line (``TextReader``). Finding the ink
        of each piece again would cost as much as the whole line's, and find nothing new."""
        return self._predicted([self._ink_readings(ink) for ink in inks], top_k)

    def _predicted(self, per_image: list[list[Reading]], top_k: int) -> list[Prediction]:
        """The predictions for each image's readings (one, or two: with a dot and without)."""
        if not per_image:
            return []
        readings = [reading for these in per_image for reading in these]
        probs = self.probabilities(np.stack([read.model_input for read in readings]))
        predictions, k = [], 0
        for these in per_image:
            chosen = k if len(these) == 1 else k + self._with_dot_or_not(probs[k], probs[k + 1])
            dotted_input = readings[k].model_input if chosen != k else None
            predictions.append(self._prediction(probs[chosen], readings[chosen], top_k, dotted_input))
            k += len(these)
        return predictions

"""The TextReader: a whole number, word or line of writing, read by the line model.

    reader = TextReader.load("digits")     # or "letters", "characters"
    r = reader.read(image)                 # r.text, r.confidence, r.characters, r.model_input

One line model (``models/lines.tflite``) reads all 62 characters and spaces; the name restricts what
it may write, as the three single-character models do. It takes every input that
``Recognizer.predict`` takes and raises the same errors. Where it reads a single character, the
single-character model of the same name reads it instead: it was trained for exactly that, and so
reading one character through ``read`` is as accurate as through ``predict``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.image_io import load_image
from recognizer.interpreter import interpreter_class
from recognizer.labels import MODEL_LABELS
from recognizer.model import MODELS_DIR, Recognizer
from recognizer.preprocess.ink import ink_map
from recognizer.preprocess.text_line import SIDE_PAD, LineInput, line_from_ink
from recognizer.text_decode import best_path

LINE_MODEL = "lines"
"""The line model's file name in models/ (``lines.tflite`` and ``lines.json``)."""


@dataclass(frozen=True)
class ReadCharacter:
    """One character of a reading: label, confidence, runners-up, and its span across the input."""

    label: str
    confidence: float
    top_k: list[tuple[str, float]]
    span: tuple[int, int]
    """The first and last x (pixels) of the input picture that the character covers."""

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "confidence": self.confidence,
            "top_k": [list(pair) for pair in self.top_k],
            "span": list(self.span),
        }


@dataclass(frozen=True)
class TextReading:
    """What the line model read: the text, how sure it is (the product of its characters'
    confidences), each character, and the line image it read."""

    text: str
    confidence: float
    characters: list[ReadCharacter]
    model_input: np.ndarray = field(repr=False)
    """The (32, width) uint8 line image, white ink on black."""

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "confidence": self.confidence,
            "characters": [c.as_dict() for c in self.characters],
        }


class TextReader:
    """The line model restricted to one alphabet. Load it with :meth:`load`; read with :meth:`read`."""

    def __init__(
        self, model_path: str | Path, metadata: dict, name: str = "characters", num_threads: int = 1
    ):
        if name not in MODEL_LABELS:
            raise ValueError(f"Unknown alphabet {name!r}: use one of {', '.join(MODEL_LABELS)}")
        self.name = name
        self.metadata = metadata
        self.alphabet: str = metadata["alphabet"]
        self.step: int = int(metadata["step"])
        self.allowed = np.array([c in MODEL_LABELS[name] or c == " " for c in self.alphabet] + [True])
        """Which of the model's classes this alphabet may write (the blank, last, always)."""
        self._model_bytes = Path(model_path).read_bytes()
        self.sha256 = hashlib.sha256(self._model_bytes).hexdigest()
        self._num_threads = num_threads
        self._local = threading.local()
        self._character_model: Recognizer | None = None
        self._models_dir = Path(model_path).parent
        self._interpreter()  # fail now, not on the first request, if the model is broken

    @classmethod
    def load(
        cls, name: str = "characters", models_dir: str | Path | None = None, num_threads: int = 1
    ) -> TextReader:
        """The line model in ``models_dir`` (default: the committed ``models/``), restricted to ``name``."""
        path = Path(models_dir or MODELS_DIR) / f"{LINE_MODEL}.tflite"
        meta = path.with_suffix(".json")
        if not path.exists() or not meta.exists():
            raise FileNotFoundError(f"Line model not found: expected {path} and {meta}")
        return cls(path, json.loads(meta.read_text()), name, num_threads)

    @property
    def character_model(self) -> Recognizer:
        """The single-character model of the same name, which reads a lone character."""
        if self._character_model is None:
            self._character_model = Recognizer.load(self.name, self._models_dir, self._num_threads)
        return self._character_model

    def _interpreter(self):
        local = self._local
        if getattr(local, "interpreter", None) is None:
            Interpreter, _ = interpreter_class()
            local.interpreter = Interpreter(model_content=self._model_bytes, num_threads=self._num_threads)
            local.inp = local.interpreter.get_input_details()[0]
            local.out = local.interpreter.get_output_details()[0]
            local.width = None
        return local.interpreter

    def logits(self, line: np.ndarray) -> np.ndarray:
        """The model's scores (steps, classes) for one (32, width) uint8 line image."""
        interpreter, local = self._interpreter(), self._local
        width = -(-line.shape[1] // self.step) * self.step
        if local.width != width:
            interpreter.resize_tensor_input(local.inp["index"], [1, line.shape[0], width, 1])
            interpreter.allocate_tensors()
            local.width = width
        x = np.zeros((1, line.shape[0], width, 1), np.float32)
        x[0, :, : line.shape[1], 0] = line
        scale, zero = local.inp["quantization"]
        if local.inp["dtype"] != np.float32:
            x = np.clip(np.round(x / scale + zero), -128, 127).astype(local.inp["dtype"])
        interpreter.set_tensor(local.inp["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(local.out["index"])[0, 0].astype(np.float32)
        scale, zero = local.out["quantization"]
        if local.out["dtype"] != np.float32:
            y = (y - zero) * scale
        return y[: -(-line.shape[1] // self.step)]

    def read(self, image: Any, top_k: int = 5) -> TextReading:
        """Read a line of writing. Raises ``NoInkError`` or ``InvalidImageError`` for bad input."""
        picture = load_image(image)
        line = line_from_ink(ink_map(picture))
        text, decoded = best_path(self.logits(line.image), self.alphabet, self.allowed, top_k)
        characters = [
            ReadCharacter(c.label, c.confidence, c.top_k, self._span(line, c.steps)) for c in decoded
        ]
        if len(characters) == 1:
            return self._one_character(picture, line)
        confidence = float(np.prod([c.confidence for c in characters])) if characters else 0.0
        return TextReading(text, confidence, characters, line.image)

    def _span(self, line: LineInput, steps: tuple[int, int]) -> tuple[int, int]:
        """The picture's x of the steps' first and last columns, within the ink."""
        ink_right = line.image.shape[1] - SIDE_PAD
        x0, x1, right = line.picture_x(
            np.array([steps[0] * self.step, (steps[1] + 1) * self.step, ink_right])
        )
        return int(round(max(float(x0), line.left))), int(round(min(float(x1), float(right))))

    def _one_character(self, picture: np.ndarray, line: LineInput) -> TextReading:
        """A lone character, read by the single-character model of the same name."""
        p = self.character_model.predict(picture)
        span = self._span(line, (0, -(-line.image.shape[1] // self.step) - 1))
        character = ReadCharacter(p.label, p.confidence, p.top_k, span)
        return TextReading(p.label, p.confidence, [character], line.image)

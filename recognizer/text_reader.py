"""The TextReader: a whole number, word or line of writing, read by the line model.

    reader = TextReader.load("digits")     # or "letters", "characters"
    r = reader.read(image)                 # r.text, r.confidence, r.characters, r.model_input

One line model (``models/lines.tflite``) reads all 62 characters and spaces; the name restricts what
it may write, as the three single-character models do. It takes every input that
``Recognizer.predict`` takes and raises the same errors. Where it reads a single character, the
single-character model of the same name reads it instead: it was trained for exactly that, and so
reading one character through ``read`` is as accurate as through ``predict``. Where the writing falls
into separate pieces of ink, the single-character model gives a second opinion on each piece
(``TextReader._second_opinion``): on validation writers' digit strings it took the share read exactly
from 75% to 91%.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from recognizer.image_io import SKETCHPAD_KEYS, load_image, sketchpad_strokes
from recognizer.interpreter import interpreter_class
from recognizer.labels import MODEL_LABELS
from recognizer.model import MODELS_DIR, Prediction, Recognizer
from recognizer.preprocess.ink import ink_map
from recognizer.preprocess.text_line import SIDE_PAD, LineInput, ink_pieces, line_from_ink, piece_inks
from recognizer.text_decode import DecodedCharacter, best_path, log_likelihood

LINE_MODEL = "lines"

TRAILING_BACKGROUND = 32
"""Background added after the line, in pixels. In training a line sits at the left of a batch padded
to its widest line, so the model has seen background after most lines; without it, a thin last
character (a 1) is often dropped (on validation writers' digit strings, 126 of 144 read exactly
without it, 131 with it)."""

LINE_WEIGHT = 0.5
"""How much the line model's probabilities count beside the single-character model's, as a power.
On validation writers (150 lines a set, sketch): at 0.3, digit strings 117 of 125 one-piece-each
lines right, block letters 21.1% CER; at 1, 113 of 125 and 20.3%. A point either way is noise."""

MAX_PIECES = 12
"""Lines of more separate pieces of ink than this (long lines, whose words are pieces) get no second
opinion from the single-character model: it would cost a read per piece for little."""
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
    prediction: Prediction | None = field(default=None, repr=False)
    """Where a lone character was read by the single-character model, its prediction (its top k,
    the 28x28 input it read, its hints); None for a line."""

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
        self.metadata = metadata
        self.alphabet: str = metadata["alphabet"]
        self.step: int = int(metadata["step"])
        self._restrict(name)
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

    def _restrict(self, name: str) -> None:
        if name not in MODEL_LABELS:
            raise ValueError(f"Unknown alphabet {name!r}: use one of {', '.join(MODEL_LABELS)}")
        self.name = name
        self.allowed = np.array([c in MODEL_LABELS[name] or c == " " for c in self.alphabet] + [True])
        """Which of the model's classes this alphabet may write (the blank, last, always)."""

    def with_alphabet(self, name: str, character_model: Recognizer | None = None) -> TextReader:
        """This reader restricted to ``name`` instead, sharing the line model and each thread's
        interpreter: an app that offers all three alphabets holds the line model once. The
        single-character model is ``character_model`` if given (one the caller already holds), else
        loaded when first needed."""
        reader = copy.copy(self)
        reader._restrict(name)
        reader._character_model = character_model
        return reader

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
        width = -(-line.shape[1] // self.step) * self.step + TRAILING_BACKGROUND
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
        picture, offset, factor = _picture(image)
        ink = ink_map(picture)
        line = line_from_ink(ink)
        everything = len(self.alphabet)
        logits = self.logits(line.image)
        _, decoded = best_path(logits, self.alphabet, self.allowed, everything)
        decoded = self._second_opinion(ink, line, logits, decoded)
        in_input = line._replace(left=offset + factor * line.left, scale=line.scale / factor)
        characters = [
            ReadCharacter(c.label, c.confidence, c.top_k[:top_k], self._span(in_input, c.steps))
            for c in decoded
        ]
        text = "".join(c.label for c in characters)
        if len(characters) <= 1:  # one character, or ink the line model took for none
            return self._one_character(picture, in_input, top_k)
        confidence = float(np.prod([c.confidence for c in characters])) if characters else 0.0
        return TextReading(text, confidence, characters, line.image)

    def _second_opinion(
        self, ink: np.ndarray, line: LineInput, logits: np.ndarray, decoded: list[DecodedCharacter]
    ) -> list[DecodedCharacter]:
        """The single-character model's reading of each separate piece of ink, weighed with the line
        model's. The single model knows each character's shape best; the line model knows a
        character's size beside its neighbours (o or O) and where the characters are.

        - Where the line model read one character over each piece, each becomes the label that both
          find likeliest (their probabilities multiplied, the line model's damped by LINE_WEIGHT).
        - Where it read a different number of characters, the pieces' reading replaces its own if
          the line model finds that text likelier (CTC's likelihood): so a thin 1 that its best path
          dropped comes back, and one character that it read as two (a u as "cl") is one again.
        """
        written = [k for k, c in enumerate(decoded) if c.label != " "]
        pieces = ink_pieces(ink)
        if len(pieces) > MAX_PIECES or abs(len(pieces) - len(written)) > 2:
            return decoded
        if len(pieces) <= 1 and len(decoded) <= 1:
            return decoded  # one character either way: ``read`` gives it to the single model whole
        labels = len(self.character_model.labels)
        readings = self.character_model.predict_inks(piece_inks(ink, pieces), top_k=labels)
        if len(pieces) == len(written) and self._one_on_each(line, [decoded[k] for k in written], pieces):
            out = list(decoded)
            for k, reading in zip(written, readings):
                single = dict(reading.top_k)
                both = {c: share**LINE_WEIGHT * single.get(c, 0.0) for c, share in decoded[k].top_k}
                total = sum(both.values())
                if total > 0:
                    ranked = sorted(((c, p / total) for c, p in both.items()), key=lambda cp: -cp[1])
                    out[k] = replace(decoded[k], label=ranked[0][0], confidence=ranked[0][1], top_k=ranked)
            return out
        mine = "".join(decoded[k].label for k in written)
        theirs = "".join(r.label for r in readings)
        likelihood = partial(log_likelihood, logits, alphabet=self.alphabet, allowed=self.allowed)
        if theirs == mine or likelihood(text=theirs) <= likelihood(text=mine):
            return decoded
        return [
            DecodedCharacter(r.label, r.confidence, r.top_k, self._steps(line, piece))
            for r, piece in zip(readings, pieces)
        ]

    def _one_on_each(
        self, line: LineInput, characters: list[DecodedCharacter], pieces: list[tuple[int, int]]
    ) -> bool:
        """Whether each character's middle lies on its piece (give or take half the piece's width)."""
        for c, (a, b) in zip(characters, pieces):
            x0, x1 = self._span(line, c.steps)
            if not a - (b - a) / 2 <= (x0 + x1) / 2 <= b + (b - a) / 2:
                return False
        return True

    def _steps(self, line: LineInput, piece: tuple[int, int]) -> tuple[int, int]:
        """The line model's steps that cover the picture's columns ``piece``."""
        x = (np.array(piece, np.float64) - line.left) * line.scale + SIDE_PAD
        return int(x[0] // self.step), int(x[1] // self.step)

    def _span(self, line: LineInput, steps: tuple[int, int]) -> tuple[int, int]:
        """The picture's x of the steps' first and last columns, within the ink."""
        ink_right = line.image.shape[1] - SIDE_PAD
        x0, x1, right = line.picture_x(
            np.array([steps[0] * self.step, (steps[1] + 1) * self.step, ink_right])
        )
        return int(round(max(float(x0), line.left))), int(round(min(float(x1), float(right))))

    def _one_character(self, picture: np.ndarray, line: LineInput, top_k: int) -> TextReading:
        """A lone character, read by the single-character model of the same name."""
        p = self.character_model.predict(picture, top_k)
        span = self._span(line, (0, -(-line.image.shape[1] // self.step) - 1))
        character = ReadCharacter(p.label, p.confidence, p.top_k, span)
        return TextReading(p.label, p.confidence, [character], line.image, p)


def _picture(image: Any) -> tuple[np.ndarray, float, float]:
    """The picture ``load_image`` makes of ``image``, and where it lies in the input: the input's x is
    ``offset + factor * x``. A sketchpad value becomes its strokes cropped (so the crop's left edge is
    the offset), and an array larger than ``MAX_SIDE`` is shrunk (so the factor is above 1). Other
    inputs (bytes, files, PIL images) are taken as decoded."""
    if isinstance(image, dict) and any(key in image for key in SKETCHPAD_KEYS):
        strokes = sketchpad_strokes(image)
        if strokes is not None:
            return strokes[0], float(strokes[1]), 1.0
    picture = load_image(image)
    if isinstance(image, np.ndarray) and image.ndim >= 2 and image.shape[1] != picture.shape[1]:
        return picture, 0.0, image.shape[1] / picture.shape[1]
    return picture, 0.0, 1.0

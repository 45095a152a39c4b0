"""Shared by the feedback tests: real predictions of the committed digits model on real MNIST digits."""

from __future__ import annotations

import functools
import time

import numpy as np

from helpers import load_mnist_sample
from recognizer import Prediction, Recognizer


@functools.cache
def digits() -> Recognizer:
    return Recognizer.load("digits")


@functools.cache
def samples(n: int = 20) -> list[tuple[Prediction, np.ndarray]]:
    """(prediction, drawing) pairs: MNIST test digits drawn as 280x280 RGBA sketchpad layers."""
    x = load_mnist_sample()[0][:n]
    drawings = []
    for ink in x:
        big = np.kron(ink, np.ones((10, 10), np.uint8))
        drawings.append(np.dstack([np.zeros_like(big)] * 3 + [big]))
    return list(zip(digits().predict_batch(drawings), drawings, strict=True))


def wrong_label(prediction: Prediction) -> str:
    """A label the user might give when the guess was wrong: any other class."""
    return next(label for label in digits().labels if label != prediction.label)


def submit(service, i: int = 0, correct: bool = False, label: str | None = None) -> str:
    """Submit feedback on sample ``i`` (mod the sample count) through the real service API."""
    prediction, drawing = samples()[i % len(samples())]
    model = digits()
    if not correct and label is None:
        label = wrong_label(prediction)
    return service.submit(model.name, model.sha256, model.labels, prediction, correct, label, drawing)


def wait_until(condition, timeout: float = 20.0, every: float = 0.02) -> bool:
    """Poll ``condition`` until it is true (returns True) or ``timeout`` seconds pass (returns False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


# -- lines -------------------------------------------------------------------------------------------


@functools.cache
def text_reader(name: str):
    from recognizer.text_reader import TextReader

    return TextReader.load(name)


def line_drawing(k: int, slant: float = 0.0, seed: int = 0) -> tuple[np.ndarray, str]:
    """Fixture line ``k`` (real UniPen strokes by a test writer) as the sketchpad hands it over (an
    RGBA layer, drawn by ``training.data.text_lines.sketch``), leaning right by ``slant`` (x moved by
    ``slant`` times the height above), and its text."""
    from helpers import load_unipen_lines_sample
    from training.data.text_lines import Line, sketch

    row = load_unipen_lines_sample()[k]
    strokes = [np.asarray(s, np.float64) for s in row["strokes"]]
    strokes = [np.c_[s[:, 0] - slant * s[:, 1], s[:, 1]] for s in strokes]
    line = Line(strokes, row["text"], row["kind"], row["writer"])
    return sketch(line, np.random.default_rng(seed)), row["text"]


@functools.cache
def line_sample(k: int = 0, reader: str = "digits"):
    """(reading, drawing, text) of fixture line ``k`` (line 0 is a digit string) read by ``reader``."""
    drawing, text = line_drawing(k)
    return text_reader(reader).read(drawing), drawing, text

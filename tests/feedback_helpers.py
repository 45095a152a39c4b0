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

"""Small fixtures that the repository ships: real MNIST digits and real pen trajectories."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """500 images of the official MNIST test set (white ink on black) and their labels."""
    with np.load(FIXTURES / "mnist_test_500.npz") as data:
        return data["x"], data["y"]


def load_unipen_sample() -> list[dict]:
    """Real UniPen pen trajectories: six 'OK'-quality samples of each of the 62 characters."""
    with gzip.open(FIXTURES / "unipen_sample.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def paste(image: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """``image`` on a black canvas of ``size``, its top-left corner at ``at``."""
    canvas = np.zeros(size, dtype=image.dtype)
    canvas[at[0] : at[0] + image.shape[0], at[1] : at[1] + image.shape[1]] = image
    return canvas


def sketchpad_value(alpha: np.ndarray, colour: tuple[int, int, int] = (0, 0, 0)) -> dict:
    """A Gradio 6 sketchpad value: a white background, one RGBA layer with the strokes, and the composite."""
    h, w = alpha.shape
    layer = np.zeros((h, w, 4), np.uint8)
    layer[..., :3] = colour
    layer[..., 3] = alpha
    background = np.full((h, w, 4), 255, np.uint8)
    a = alpha[..., None].astype(np.float32) / 255
    composite = background.copy()
    composite[..., :3] = np.round(255 * (1 - a) + np.array(colour) * a).astype(np.uint8)
    return {"background": background, "layers": [layer], "composite": composite}

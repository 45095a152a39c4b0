"""Small fixtures that the repository ships: real MNIST digits and real pen trajectories."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from training.data.unipen import sketchpad_value  # noqa: F401  (re-exported for the tests)
from training.evaluate import lamp_lit  # noqa: F401  (re-exported for the tests)

FIXTURES = Path(__file__).parent / "fixtures"


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """500 images of the official MNIST test set (white ink on black) and their labels."""
    with np.load(FIXTURES / "mnist_test_500.npz") as data:
        return data["x"], data["y"]


def load_unipen_sample() -> list[dict]:
    """Real UniPen pen trajectories: six 'OK'-quality samples of each of the 62 characters."""
    with gzip.open(FIXTURES / "unipen_sample.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def load_unipen_lines_sample() -> list[dict]:
    """Real UniPen lines by test writers of the line model: digit strings, numbers, block letters, words
    and short text lines (``set``, ``text``, ``writer``, ``kind``, ``strokes`` in page coordinates, y down;
    see fixtures/make_unipen_lines_sample.py)."""
    with gzip.open(FIXTURES / "unipen_lines_sample.jsonl.gz", "rt") as f:
        return [json.loads(line) for line in f]


def unipen_line_sketch(k: int, seed: int = 27) -> dict:
    """The fixture's real line ``k`` on a 1200x400 sketchpad value, drawn as the line evaluation draws it."""
    from training.data.text_lines import Line
    from training.evaluate_lines import drawn

    row = load_unipen_lines_sample()[k]
    return drawn(Line.from_row(row), "sketch", (seed, k))


def paste(image: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """``image`` on a black canvas of ``size``, its top-left corner at ``at``."""
    canvas = np.zeros(size, dtype=image.dtype)
    canvas[at[0] : at[0] + image.shape[0], at[1] : at[1] + image.shape[1]] = image
    return canvas


def photo(digit: np.ndarray, light: np.ndarray, ink: float = 40.0) -> np.ndarray:
    """A white-on-black 28x28 digit printed 6x larger in the middle of a 280x420 page lit as ``light``."""
    page = paste(np.kron(digit, np.ones((6, 6), np.uint8)), (280, 420), (56, 126))
    alpha = page.astype(np.float32) / 255
    return np.round(light - alpha * (light - ink)).astype(np.uint8)


def disc(image: np.ndarray, centre: tuple[float, float], radius: float, value: float) -> None:
    """Paint a filled disc on ``image`` in place: a speck of dust, or the dot of an i."""
    ys, xs = np.ogrid[: image.shape[0], : image.shape[1]]
    image[(ys - centre[0]) ** 2 + (xs - centre[1]) ** 2 <= radius**2] = value


def ruled(
    size: tuple[int, int],
    spacing: float,
    tilt: float,
    grey: float,
    squared: bool,
    paper: float = 235.0,
    thick: float = 3.0,
) -> np.ndarray:
    """Ruled (or squared) paper: grey lines ``thick`` px thick on ``paper``, tilted by ``tilt`` degrees."""
    ys, xs = np.indices(size, dtype=np.float64)
    slope = np.tan(np.radians(tilt))
    page = np.full(size, paper)
    page[np.mod(ys - xs * slope, spacing) < thick] = grey
    if squared:
        page[np.mod(xs + ys * slope, spacing) < thick] = grey
    return page


def empty_canvases(height: int, width: int) -> list:
    """Values with no ink, as the sketchpad or a caller may send them: nothing, an empty sketchpad
    value, a white canvas with a clear layer, a white picture, a clear RGBA picture."""
    return [
        None,
        {"background": None, "layers": [], "composite": None},
        {
            "background": np.full((height, width, 4), 255, np.uint8),
            "layers": [np.zeros((height, width, 4), np.uint8)],
            "composite": np.full((height, width, 4), 255, np.uint8),
        },
        np.full((height, width), 255, np.uint8),
        np.zeros((64, 64, 4), np.uint8),
    ]


NOT_IMAGES = [b"", b"this is not an image", np.zeros((3, 3, 3, 3)), {"strokes": []}, 12345]
"""Values that are not pictures at all."""

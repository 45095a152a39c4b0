"""UniPen: online pen trajectories (digits, upper- and lowercase letters) by 198 writers.

These are the closest thing we have to sketchpad input, so each trajectory is
drawn the way a user would draw it in the app, with a round brush of some
width at some size, and the drawing then goes through the shared preprocessing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from recognizer.labels import BYCLASS
from training.data.base import Split, preprocess_all
from training.data.styles import STYLES, with_style
from training.data.styles import VERSION as STYLES_VERSION  # part of the cache key

DEFAULT_PATH = Path("../shared/data/unipen/unipen_dev.jsonl.gz")
_INDEX = {c: i for i, c in enumerate(BYCLASS)}
ALL_HABITS = "".join(STYLES)
"""Every character that has a writing habit: 0, 1, 7, Z and z."""
AUDIT_PATH = Path(__file__).with_name("unipen_audit.json")
"""A by-eye list of held-out samples that cannot be read as their label (see its "how")."""


def read(path: str | Path = DEFAULT_PATH, limit: int | None = None) -> list[dict]:
    """Read the JSON-lines file: one dict a sample with label, writer, y_up and strokes."""
    path = Path(path)
    if path.is_dir():
        path = path / "unipen_dev.jsonl.gz"
    samples = []
    with gzip.open(path, "rt") as f:
        for line in f:
            sample = json.loads(line)
            if sample["label"] in _INDEX and any(sample["strokes"]):
                samples.append(sample)
                if limit and len(samples) >= limit:
                    break
    return samples


def sample_key(sample: dict) -> tuple[str, str, str]:
    """Writer, label and a hash of the strokes: names a sample whatever its position in the file."""
    digest = hashlib.sha1(json.dumps(sample["strokes"]).encode()).hexdigest()[:12]
    return sample["writer"], sample["label"], digest


def audit(path: str | Path = AUDIT_PATH) -> tuple[dict, set[tuple[str, str, str]]]:
    """The audit's scope (which split, seed and labels were looked at) and the keys of its broken samples."""
    data = json.loads(Path(path).read_text())
    return data["scope"], {(b["writer"], b["label"], b["strokes_sha1"]) for b in data["broken"]}


def draw_strokes(
    strokes: list[list[list[float]]],
    y_up: bool = False,
    canvas: tuple[int, int] = (800, 800),
    height: float = 400.0,
    centre: tuple[float, float] | None = None,
    brush: float = 16.0,
) -> np.ndarray:
    """Draw pen strokes as a round brush would on a canvas; return the ink as uint8 (H, W).

    The character is scaled so that its height (or width, if wider) is ``height``
    pixels, placed with its box centred on ``centre`` (default: canvas centre).
    A stroke with a single point becomes a dot, as the pen on a sketchpad makes one.
    """
    points = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    allp = np.concatenate(points)
    lo, hi = allp.min(0), allp.max(0)
    extent = max(float((hi - lo).max()), 1e-6)
    scale = height / extent
    cx, cy = centre if centre else (canvas[0] / 2, canvas[1] / 2)
    mid = (lo + hi) / 2
    image = Image.new("L", canvas, 0)
    draw = ImageDraw.Draw(image)
    r = brush / 2
    for p in points:
        xy = (p - mid) * scale
        if y_up:
            xy[:, 1] = -xy[:, 1]
        xy += (cx, cy)
        flat = [tuple(q) for q in xy]
        if len(flat) > 1:
            draw.line(flat, fill=255, width=max(1, int(round(brush))), joint="curve")
        for x, y in (flat[0], flat[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image)


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


def render(
    sample: dict, rng: np.random.Generator, styles: float = 0.0, habits: str = ALL_HABITS
) -> np.ndarray:
    """Draw one sample as a user might: random size, position and brush width, on a small canvas.

    The preprocessing crops to the ink, so a canvas just larger than the
    character gives the same result as the full 800x800 sketchpad, much faster.
    With ``styles`` > 0, that share of the characters in ``habits`` that have a
    regional writing habit (``training/data/styles.py``) are drawn with it.
    """
    height = rng.uniform(120, 520)
    brush = float(np.exp(rng.uniform(np.log(3), np.log(40))))
    side = int(height + 2 * brush + 20)
    strokes = sample["strokes"]
    if styles and sample["label"] in STYLES and sample["label"] in habits and rng.random() < styles:
        strokes = with_style(strokes, sample["y_up"], sample["label"], rng)
    return draw_strokes(strokes, sample["y_up"], (side, side), height, None, brush)


def load(
    path: str | Path = DEFAULT_PATH,
    limit: int | None = None,
    seed: int = 0,
    styles: float = 0.0,
    habits: str = ALL_HABITS,
    keep_dots: bool = True,
) -> Split:
    """Every UniPen sample, drawn once with a random brush and size, then preprocessed.

    ``styles``: the share of the characters in ``habits`` (default 0, 1, 7 and Z/z)
    drawn with a regional habit (see :func:`render`).
    """
    samples = read(path, limit)
    rng = np.random.default_rng(seed)
    key = f"unipen-{Path(path).name}-{len(samples)}-s{seed}" if not limit else None
    if key and styles:
        key += f"-styles{styles:g}-{STYLES_VERSION}" + ("" if habits == ALL_HABITS else f"-{habits}")
    images = _LazyRender(samples, rng.integers(0, 2**32, len(samples)), styles, habits)
    x = preprocess_all(images, key, keep_dots)
    y = np.array([_INDEX[s["label"]] for s in samples], dtype=np.int64)
    writer = np.array([s["writer"] for s in samples], dtype=str)
    return Split(x, y, writer, "unipen")


class _LazyRender:
    """Samples that are drawn only when iterated, so that worker processes do the drawing.

    Slicing gives another lazy sequence, which is cheap to send to a worker.
    """

    def __init__(self, samples: list[dict], seeds: np.ndarray, styles: float = 0.0, habits: str = ALL_HABITS):
        self.samples, self.seeds, self.styles, self.habits = samples, seeds, styles, habits

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: slice) -> _LazyRender:
        return _LazyRender(self.samples[index], self.seeds[index], self.styles, self.habits)

    def __iter__(self):
        for sample, seed in zip(self.samples, self.seeds):
            yield render(sample, np.random.default_rng(int(seed)), self.styles, self.habits)

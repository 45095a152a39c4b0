"""Realistic inputs, built the same way every time: a sketchpad drawing and a phone photo.

Shared by the benchmarks and the hostile-input tests, so that both measure
and check what users actually send.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.helpers import load_mnist_sample, load_unipen_sample, sketchpad_value

SKETCH_FILE, SKETCH_PNG, JPEG_FILE = "sketch_800x800.npz", "sketch_800x800.png", "photo_1200x900.jpg"
SHADOW_JPEG_FILE = "photo_1200x900_shadow.jpg"
STROKE_PNGS = {"background": "stroke_background.png", "layer": "stroke_layer.png",
               "composite": "stroke_composite.png"}
"""A drawing as the app's sketchpad sends it after a stroke: three PNGs of its 1200x400 canvas."""
APP_CANVAS, APP_BRUSH = (1200, 400), 18.0
"""app.CANVAS and app.BRUSH_SIZE (not imported: importing app.py imports Gradio)."""


def unipen_samples(label: str) -> list[dict]:
    """The pen trajectories of one label in the shipped UniPen fixture."""
    return [s for s in load_unipen_sample() if s["label"] == label]


def mnist_digit(label: int, nth: int = 0) -> np.ndarray:
    """The ``nth`` MNIST test digit of class ``label`` in the fixture: uint8 (28, 28), white on black."""
    x, y = load_mnist_sample()
    return x[np.flatnonzero(y == label)[nth]]


def unipen_sketch(sample: dict, canvas: tuple[int, int] = (800, 800), brush: float = 16.0) -> dict:
    """A UniPen trajectory drawn on a sketchpad of ``canvas`` (width, height), half its height tall."""
    # Imported here, so that the serving-footprint process (which reads saved inputs) never imports training.
    from training.data.unipen import draw_strokes

    ink = draw_strokes(sample["strokes"], sample["y_up"], canvas, canvas[1] / 2, None, brush)
    return sketchpad_value(ink)


def paper_photo(
    ink: np.ndarray, size: tuple[int, int] = (1200, 900), seed: int = 0, shadow: bool = False
) -> Image.Image:
    """``ink`` (white on black, any size) as dark pen on uneven, noisy paper: an RGB photo of ``size``.

    The character fills about half the photo's height, a little off centre. With ``shadow``, the
    sharp edge of a shadow crosses the page along the character's foot, which takes the slower path of
    the preprocessing.
    """
    w, h = size
    side = h // 2
    glyph = np.asarray(Image.fromarray(ink).resize((side, side), Image.Resampling.BILINEAR), np.float32) / 255
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = 215 + 25 * (xx / w) - 15 * (yy / h) + rng.normal(0, 4, (h, w))
    top, left = h // 4 - h // 20, w // 2 - side // 2 + w // 25
    paper[top : top + side, left : left + side] *= 1 - 0.8 * glyph
    if shadow:  # darker by half below a line that rises from left to right, along the foot of a 2
        paper[yy > 0.8 * h - 0.3 * xx] *= 0.5
    tint = np.array([1.0, 0.97, 0.9], dtype=np.float32)
    rgb = np.clip(paper[:, :, None] * tint, 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def sketch_pngs(sample: dict) -> dict[str, bytes]:
    """A UniPen trajectory drawn on the app's sketchpad, as the browser uploads it after a stroke: the
    canvas's background, its one layer of strokes and their composite, each a PNG."""
    value = unipen_sketch(sample, APP_CANVAS, APP_BRUSH)
    parts = {"background": value["background"], "layer": value["layers"][0], "composite": value["composite"]}
    return {name: encode(Image.fromarray(part, "RGBA"), "PNG") for name, part in parts.items()}


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    """``image`` saved in ``fmt`` (a Pillow format name), as bytes."""
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def write_benchmark_inputs(folder: Path) -> None:
    """Save the inputs every latency figure uses, so that each benchmark process reads the very same ones:
    the first UniPen "7" drawn on an 800x800 sketchpad (as a value and as the PNG a browser would
    upload), the same 7 as the app's sketchpad sends it (three PNGs), and an MNIST "2" photographed on
    paper as a 1200x900 JPEG, without and with a shadow."""
    seven = unipen_samples("7")[0]
    sketch = unipen_sketch(seven)
    np.savez(folder / SKETCH_FILE, background=sketch["background"], layer=sketch["layers"][0],
             composite=sketch["composite"])
    Image.fromarray(sketch["composite"], "RGBA").save(folder / SKETCH_PNG)
    for name, data in sketch_pngs(seven).items():
        (folder / STROKE_PNGS[name]).write_bytes(data)
    for name, shadow in ((JPEG_FILE, False), (SHADOW_JPEG_FILE, True)):
        (folder / name).write_bytes(encode(paper_photo(mnist_digit(2), shadow=shadow), "JPEG", quality=85))


def read_benchmark_inputs(folder: Path) -> dict[str, Any]:
    """As write_benchmark_inputs saved them: "sketch_800x800", a sketchpad value of arrays (what Gradio's
    own sketchpad gives); "png_800x800", the bytes of that drawing's canvas PNG (an upload, or a call of
    the lean API); "sketch_app_png", the app's 1200x400 sketchpad value (undecoded PNGs); and
    "jpeg_1200x900" and "jpeg_1200x900_shadow", JPEG paths."""
    with np.load(folder / SKETCH_FILE) as z:
        sketch = {"background": z["background"], "layers": [z["layer"]], "composite": z["composite"]}
    strokes = {name: (folder / file).read_bytes() for name, file in STROKE_PNGS.items()}
    return {
        "sketch_800x800": sketch,
        "png_800x800": (folder / SKETCH_PNG).read_bytes(),
        "sketch_app_png": {"background": strokes["background"], "layers": [strokes["layer"]],
                               "composite": strokes["composite"]},
        "jpeg_1200x900": str(folder / JPEG_FILE),
        "jpeg_1200x900_shadow": str(folder / SHADOW_JPEG_FILE),
    }

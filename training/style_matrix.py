"""Plain pictures of one character, in every basic style people save them in.

Before any photo condition (a shadow, a desk, a form), a character must read as
well however it was saved: light on dark or dark on light or on a transparent
background; cropped to the ink, touching two edges, with a small margin or a
wide one; square, stretched to a square or in the ink's own aspect; 16 px to
2,000 px; PNG or JPEG; with a thin or a fat stroke; drawn large, or a tiny
picture cropped and blown up. Each *cell* of the matrix is one such style, and
every cell should read within 1.5 points of the plain cell (the 28x28 picture
as the data set gives it).

    python -m training.style_matrix digits --data-dir ../shared/data [--limit 500] [--write]

The pictures are rendered from 28x28 white-on-black characters (MNIST's test
set for digits, held-out FEMNIST writers for letters), so the matrix measures
what saving does to a character, not the handwriting. Everything here is a pure
function of its arguments; the tests run a small sample of every cell.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageFilter

MASTER = 8
"""The character is drawn at 8 times its 28 px first (224 px), where a stroke can be thinned or thickened."""

BAR = 0.015
"""A cell passes when it reads within this much of the plain cell (1.5 points)."""


@dataclass(frozen=True)
class Style:
    """One way of saving a picture of a character."""

    polarity: str = "dark_on_light"
    """"dark_on_light", "light_on_dark", or "transparent" (black ink, alpha = ink)."""
    crop: str = "margin"
    """"ink": cut at the ink's edges (touching all four); "two": touching the top and left edges only;
    "margin": a small margin (a tenth of the ink's longer side); "wide": a wide one (half of it)."""
    aspect: str = "square"
    """"square" (padded with background to a square), "stretch" (stretched to a square), or "own": the
    ink's own aspect."""
    size: int = 128
    """The picture's longer side, in pixels."""
    fmt: str = "png"
    """"png" or "jpeg" (quality 75)."""
    stroke: str = "normal"
    """"normal", "thin" (a third of MNIST's width) or "fat" (about twice it)."""
    contrast: str = "full"
    """"full" (black and white) or "grey": ink and background 130 grey levels apart, as a dim scan."""
    source: str = "drawn"
    """"drawn": drawn at MASTER times its size, cropped there and resized (Lanczos), as a drawing
    program exports it; or "small": the 28x28 picture itself cropped and blown up (bicubic), as an
    image editor enlarges a tiny crop, its soft edges and faint pixels many pixels wide."""

    @property
    def name(self) -> str:
        base = Style()
        parts = [f"{getattr(self, k)}" for k in asdict(self) if getattr(self, k) != getattr(base, k)]
        return "/".join(parts) or "dark_on_light"


PLAIN = "plain"
"""The plain cell: the 28x28 character as the data set gives it, light on dark, as a PNG."""


def cells() -> dict[str, Style | None]:
    """The matrix: every polarity, crop and size together, and the other axes beside them.

    ``None`` is the plain cell. Polarity, crop and size are the axes that interact (a crop to the ink
    puts ink on the border, where the background is read); aspect, format, stroke and contrast are
    varied on each polarity and crop at one or two sizes. A tiny crop blown up is cropped to the ink
    (the 28x28 picture's non-zero box), in each polarity, stretched or in its own aspect.
    """
    out: dict[str, Style | None] = {PLAIN: None}

    def add(style: Style) -> None:
        out[style.name] = style

    for polarity in ("light_on_dark", "dark_on_light", "transparent"):
        for crop in ("ink", "two", "margin", "wide"):
            for size in (16, 28, 64, 128, 600, 2000):
                if not (crop == "wide" and size == 16):  # an 8 px character: too small to write
                    add(Style(polarity, crop, "square", size))
            for size in (64, 300):
                add(Style(polarity, crop, "own", size))
            for stroke in ("thin", "fat"):
                add(Style(polarity, crop, "square", 128, stroke=stroke))
            if polarity != "transparent":  # JPEG has no alpha
                for size in (64, 600):
                    add(Style(polarity, crop, "square", size, "jpeg"))
                add(Style(polarity, crop, "own", 300, "jpeg"))
                add(Style(polarity, crop, "square", 128, contrast="grey"))
        for size in (64, 128, 600):
            add(Style(polarity, "ink", "stretch", size, source="small"))
        add(Style(polarity, "ink", "own", 300, source="small"))
    return out


def render(glyph: np.ndarray, style: Style | None) -> bytes:
    """The file a person would upload: ``glyph`` (28x28 uint8, white ink on black) saved in ``style``."""
    if style is None:
        return _encode(Image.fromarray(np.asarray(glyph, np.uint8)), "png")
    if style.source == "small":
        ink = _cropped(np.asarray(glyph, np.float32) / 255, _ink_box(glyph, "normal", 1), style.crop)
    else:
        ink = _cropped(_master(glyph, style.stroke), _ink_box(glyph, style.stroke), style.crop)
    if style.aspect == "square":
        ink = _squared(ink)
    ink = _resized(ink, style.size, style.aspect == "stretch", style.source == "small")
    if style.contrast == "grey":
        ink = 0.2 + 0.51 * ink  # 51 to 181 of 255: 130 levels apart
    if style.polarity == "transparent":
        alpha = np.round(ink * 255).astype(np.uint8)
        rgba = np.zeros((*alpha.shape, 4), np.uint8)
        rgba[..., 3] = alpha
        return _encode(Image.fromarray(rgba, "RGBA"), style.fmt)
    grey = ink if style.polarity == "light_on_dark" else 1.0 - ink
    return _encode(Image.fromarray(np.round(grey * 255).astype(np.uint8)), style.fmt)


def _master(glyph: np.ndarray, stroke: str) -> np.ndarray:
    """The glyph at MASTER times its size (0-1); a thin or fat stroke is drawn as a drawing program
    would: the shape thinned to about half its stroke width or thickened to about twice it, with soft
    (anti-aliased) edges."""
    image = Image.fromarray(np.asarray(glyph, np.uint8)).resize(
        (28 * MASTER, 28 * MASTER), Image.Resampling.BICUBIC
    )
    if stroke != "normal":
        shape = np.asarray(image) > 127
        width = drawn_stroke_width(shape)
        reach = max(1, round(width / 4 if stroke == "thin" else width / 2))
        pen = ImageFilter.MinFilter if stroke == "thin" else ImageFilter.MaxFilter
        image = Image.fromarray(shape.astype(np.uint8) * 255).filter(pen(2 * reach + 1))
        image = image.filter(ImageFilter.GaussianBlur(1.5))
    return np.asarray(image, np.float32) / 255.0


def drawn_stroke_width(shape: np.ndarray) -> float:
    """A binary shape's typical stroke width, twice its area over its outline's length: how far to thin
    or thicken the master. (Not ``recognizer.preprocess.strokes.stroke_width``, the serving measure.)"""
    inner = shape[1:-1, 1:-1] & shape[:-2, 1:-1] & shape[2:, 1:-1] & shape[1:-1, :-2] & shape[1:-1, 2:]
    outline = int(shape.sum()) - int(inner.sum())
    return 2.0 * float(shape.sum()) / max(1, outline)


def _ink_box(glyph: np.ndarray, stroke: str, scale: int = MASTER) -> tuple[int, int, int, int]:
    """Where any ink is (any pixel above 0, as an editor's "crop to content" cuts), in pixels of the
    glyph ``scale`` times its size (the master's by default); a fat stroke grows it by the filter's reach."""
    rows, cols = np.flatnonzero(np.any(glyph > 0, 1)), np.flatnonzero(np.any(glyph > 0, 0))
    grow = 2 * scale if stroke == "fat" else 0
    top, left = max(0, rows[0] * scale - grow), max(0, cols[0] * scale - grow)
    bottom, right = (min(28 * scale, (v[-1] + 1) * scale + grow) for v in (rows, cols))
    return top, bottom, left, right


def _cropped(ink: np.ndarray, box: tuple[int, int, int, int], crop: str) -> np.ndarray:
    """``ink`` cut to ``box`` (top, bottom, left, right, in ``ink``'s pixels), then given the ``crop``'s
    margins."""
    top, bottom, left, right = box
    box = ink[top:bottom, left:right]
    side = max(box.shape)
    margin = {"ink": 0, "two": side // 10, "margin": side // 10, "wide": side // 2}[crop]
    before = 0 if crop == "two" else margin  # "two": touching the top and left edges
    return np.pad(box, ((before, margin), (before, margin)))


def _squared(ink: np.ndarray) -> np.ndarray:
    """``ink`` padded with background, evenly on both sides, to a square."""
    h, w = ink.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return np.pad(ink, ((top, side - h - top), (left, side - w - left)))


def _resized(ink: np.ndarray, size: int, stretch: bool = False, small: bool = False) -> np.ndarray:
    """``ink`` scaled so that its longer side is ``size`` (or stretched to ``size`` x ``size``), as an
    image editor would: Lanczos; or, for a ``small`` picture (8 bits a pixel) blown up, bicubic."""
    h, w = ink.shape
    scale = size / max(h, w)
    shape = (size, size) if stretch else (max(1, round(w * scale)), max(1, round(h * scale)))
    if small:
        image = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize(shape, Image.Resampling.BICUBIC)
        return np.asarray(image, np.float32) / 255
    resized = Image.fromarray(ink, mode="F").resize(shape, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized, np.float32), 0.0, 1.0)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.save(buf, "JPEG", quality=75)
    else:
        image.save(buf, "PNG")
    return buf.getvalue()


def evaluate(
    rec, glyphs: np.ndarray, labels: list[str], styles: dict[str, Style | None] | None = None
) -> dict:
    """Accuracy of ``rec`` in every cell of the matrix (exact, and up to case), and which cells miss
    the bar: more than BAR under the plain cell (and, for digits, under 97%)."""
    from training.evaluate import score  # the same scoring as every other column

    styles = cells() if styles is None else styles
    results = {name: score(rec, ((render(g, style), label) for g, label in zip(glyphs, labels)))
               for name, style in styles.items()}
    plain = results[PLAIN]["accuracy"]
    floor = plain - BAR if rec.name != "digits" else min(plain - BAR, 0.97)
    worst = min(results, key=lambda name: results[name]["accuracy"])
    return {
        "cells": results,
        "plain": plain,
        "worst": {"cell": worst, **results[worst]},
        "below_bar": sorted(name for name, r in results.items() if r["accuracy"] < floor),
    }


def held_out_glyphs(model: str, labels: tuple[str, ...], data_dir: str, limit: int, seed: int = 42):
    """The characters the matrix is drawn from: MNIST's official test digits for the digits model,
    held-out FEMNIST writers' characters for the others (as ``training.evaluate`` chooses them)."""
    from recognizer.labels import BYCLASS
    from training.datasets import _sub
    from training.evaluate import held_out

    rng = np.random.default_rng(7)
    if model == "digits":
        from training.data import mnist

        x, y = mnist.load_raw(_sub(data_dir, "mnist"))["test"]
        chosen = rng.permutation(len(x))[:limit]
        return x[chosen], [str(int(v)) for v in y[chosen]]
    with np.load(f"{_sub(data_dir, 'femnist')}/femnist_byclass_dev.npz") as data:
        x, y, writers = data["x"], data["y"], data["writer"].astype(str)
    chars = np.asarray(BYCLASS)[y]
    test = [i for i in held_out(writers, "femnist", seed) if chars[i] in labels]
    chosen = rng.permutation(test)[:limit]
    return x[chosen], list(chars[chosen])


def main(argv: list[str] | None = None) -> dict:
    from recognizer import Recognizer

    p = argparse.ArgumentParser(prog="python -m training.style_matrix")
    p.add_argument("model")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--limit", type=int, default=500, help="characters per cell")
    p.add_argument("--only", default="", help="only the cells whose name contains this")
    p.add_argument("--write", action="store_true", help="record the result in models/<model>.json")
    args = p.parse_args(argv)
    rec = Recognizer.load(args.model)
    glyphs, labels = held_out_glyphs(args.model, rec.labels, args.data_dir, args.limit)
    styles = {k: v for k, v in cells().items() if k == PLAIN or args.only in k}
    t0 = time.time()
    result = evaluate(rec, glyphs, labels, styles)
    result["seconds"] = round(time.time() - t0, 1)
    for name, r in result["cells"].items():
        print(f"{name:45s} {r['accuracy']:.4f} {r['case_insensitive']:.4f}")
    print(json.dumps({k: v for k, v in result.items() if k != "cells"}, indent=2))
    if args.write:
        meta_path = rec.model_path.with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        command = "python -m training.style_matrix " + " ".join(sys.argv[1:] if argv is None else argv)
        meta["style_matrix"] = {"command": command, "n": len(labels), **result}
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()

"""How well preprocessing tells a picture of several characters from a picture of one.

    python -m training.check_several_characters --data-dir ../shared/data

``recognizer.preprocess.several_characters`` is what makes the app say "this looks like more than
one character". This scores it on UniPen drawings (pairs of digits side by side, and single
characters), on MNIST's test set, and on FEMNIST characters as each kind of scan and photo that
``training.evaluate`` makes. It prints what it flags. Nothing is trained on it; the crop's APART was
chosen on its default draw and confirmed on another (``--seed 2``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from recognizer import NoInkError
from recognizer.image_io import load_image
from recognizer.labels import BYCLASS
from recognizer.preprocess import reading
from training.data import mnist, unipen
from training.data.unipen import draw_strokes
from training.datasets import _sub
from training.evaluate import scans

CANVAS = (1400, 800)
"""Wide enough for two characters side by side."""


def flagged(image: np.ndarray, keep_dots: bool = True) -> bool:
    try:
        return reading(image, keep_dots).several_characters
    except NoInkError:
        return False


def drawn(sample: dict, height: float, x: float, brush: float) -> np.ndarray:
    """Dark ink on white, ``height`` px tall, centred on column ``x``."""
    return 255 - draw_strokes(sample["strokes"], sample["y_up"], CANVAS, height, (x, CANVAS[1] / 2), brush)


def side_by_side(first: dict, second: dict, height: float, brush: float, gap: float) -> np.ndarray:
    """Two samples drawn dark on white, as a number is written: ``gap`` of their height from the
    right edge of the first to the left edge of the second."""
    left, right = drawn(first, height, 500, brush), drawn(second, height, 900, brush)
    columns = [np.flatnonzero((image < 128).any(0)) for image in (left, right)]
    shift = int(columns[0][-1] + gap * height - columns[1][0])
    return np.minimum(left, np.roll(right, shift, axis=1))


def pairs(digits: list[dict], n: int, rng: np.random.Generator) -> list[tuple[str, float, bool]]:
    """(the two digits, their gap as a share of their height, flagged) for n random pairs."""
    out = []
    for _ in range(n):
        first, second = (digits[i] for i in rng.integers(len(digits), size=2))
        height, brush, gap = rng.uniform(150, 500), rng.uniform(5, 30), rng.uniform(0.05, 0.6)
        pair = side_by_side(first, second, height, brush, gap)
        out.append((first["label"] + second["label"], round(gap, 3), flagged(pair, keep_dots=False)))
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.check_several_characters")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--pairs", type=int, default=400)
    p.add_argument("--singles", type=int, default=3000)
    p.add_argument("--scans", type=int, default=400, help="FEMNIST characters per kind of scan or photo")
    p.add_argument("--seed", type=int, default=1, help="draws other pairs, characters and scans")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    samples = unipen.read(_sub(args.data_dir, "unipen"))
    results = {}

    found = pairs([s for s in samples if s["label"].isdigit()], args.pairs, rng)
    results["digit pairs"] = {
        "n": len(found),
        "flagged": sum(f for _, _, f in found),
        "missed (digits, gap / height)": sorted([(d, g) for d, g, f in found if not f], key=lambda m: m[1]),
    }
    singles = [samples[i] for i in rng.permutation(len(samples))[: args.singles]]
    hits = [s for s in singles if flagged(drawn(s, rng.uniform(150, 650), 700, rng.uniform(5, 40)))]
    results["single characters"] = {
        "n": len(singles),
        "flagged": len(hits),
        "which (label, writer)": [(s["label"], s["writer"]) for s in hits],
    }
    images, labels = mnist.load_raw(_sub(args.data_dir, "mnist"))["test"]
    hits = [i for i, image in enumerate(images) if flagged(image, keep_dots=False)]
    results["mnist test"] = {"n": len(images), "flagged": len(hits), "which (index)": hits}

    with np.load(f"{_sub(args.data_dir, 'femnist')}/femnist_byclass_dev.npz") as data:
        chosen = rng.permutation(len(data["y"]))[: args.scans]
        x, chars = data["x"][chosen], [BYCLASS[k] for k in data["y"][chosen]]
    for kind in ("scan", "lamp", "desk", "dust", "lined", "faint"):
        hits = [label for value, label in scans(x, chars, rng, kind) if flagged(load_image(value))]
        results[f"femnist {kind}"] = {"n": len(x), "flagged": len(hits), "which": hits}
    print(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()

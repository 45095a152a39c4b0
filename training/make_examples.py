"""Make the app's example pictures: real pen strokes, photographed or scanned as people send them.

    python -m training.make_examples --data-dir ../shared/data

Each example is one UniPen character by a held-out test writer (never trained on), drawn
with a pen and put on paper as one of ``training.evaluate``'s photo kinds: ruled paper, a
lamp-lit page, a sheet on a desk, a dusty scan, faint pencil. The pictures go to
``docs/examples/`` with ``examples.json`` (file, model, label, caption), which the app reads.
A sample is used only if the model the example names reads it right with at least 90%
confidence: the examples show what the app does when it works, on characters written plainly.
The script says how many samples it passed over for each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from recognizer import Recognizer
from training.data import unipen
from training.data.unipen import draw_strokes
from training.datasets import _sub
from training.evaluate import as_jpeg, held_out, lamp_lit, on_paper

OUT = Path(__file__).resolve().parents[1] / "docs" / "examples"
SIDE = 360
"""Pixels of paper around the character before the kind adds a sheet, lines or a scan around it."""
CONFIDENT = 0.9

EXAMPLES = [  # (label, model, kind, caption)
    ("7", "digits", "lined", "A 7 on ruled paper"),
    ("3", "digits", "lamp", "A 3 under a lamp"),
    ("a", "letters", "desk", "An a on a desk"),
    ("R", "letters", "dust", "An R, scanned with dust"),
    ("5", "characters", "faint", "A 5 in faint pencil"),
    ("k", "characters", "scan", "A k, scanned"),
]


def picture(sample: dict, kind: str, rng: np.random.Generator) -> bytes:
    """``sample`` drawn dark on paper as a JPEG photo or scan of the given kind."""
    strokes = draw_strokes(sample["strokes"], sample["y_up"], (SIDE, SIDE), 0.6 * SIDE, None, 7.0)
    paper, ink = 238.0, 35.0
    if kind == "faint":
        ink = paper - 45.0
    light = lamp_lit((SIDE, SIDE), paper, 90.0, rng.uniform(0, 2 * np.pi)) if kind == "lamp" else paper
    page = on_paper(light - strokes / 255.0 * (light - ink), kind, paper, ink, rng)
    page = page + rng.normal(0, 5.0 if kind == "faint" else 3.0, page.shape)
    return as_jpeg(page, 88)


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m training.make_examples", description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--seed", type=int, default=42, help="the training seed (it fixed the writer split)")
    args = p.parse_args(argv)
    samples = unipen.read(_sub(args.data_dir, "unipen"))
    test = held_out(np.array([s["writer"] for s in samples]), "unipen", args.seed)
    rng = np.random.default_rng(args.seed)
    OUT.mkdir(parents=True, exist_ok=True)
    made = []
    for label, model, kind, caption in EXAMPLES:
        recognizer = Recognizer.load(model)
        candidates = [i for i in test if samples[i]["label"] == label and samples[i]["quality"] == "OK"]
        passed_over = 0
        for i in rng.permutation(candidates):
            data = picture(samples[i], kind, rng)
            guess = recognizer.predict(data)
            if guess.label == label and guess.confidence >= CONFIDENT:
                break
            passed_over += 1
        else:
            raise SystemExit(f"no test-writer {label!r} that the {model} model reads confidently as {kind}")
        name = f"{label}-{kind}.jpg" if label.islower() or label.isdigit() else f"{label}-upper-{kind}.jpg"
        (OUT / name).write_bytes(data)
        made.append({"file": name, "model": model, "label": label, "caption": caption,
                     "writer": samples[i]["writer"], "passed_over": passed_over})
        print(f"{name}: {caption}; {passed_over} passed over first", flush=True)
    (OUT / "examples.json").write_text(json.dumps(made, indent=1) + "\n")
    return made


if __name__ == "__main__":
    main()

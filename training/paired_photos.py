"""Read the same photo-column pictures at two commits, and count the readings that changed.

A change to preprocessing must not cost a photo column (issue 28). Two separate evaluations of
2,000 pictures each differ by a point by chance; reading the very same pictures before and after
shows every reading that moved, and so settles it.

    python -m training.paired_photos write pictures.pkl --limit 400
    git worktree add /tmp/before <commit>
    (cd /tmp/before && python -m training.paired_photos read pictures.pkl before.json)
    python -m training.paired_photos read pictures.pkl after.json
    python -m training.paired_photos compare pictures.pkl before.json after.json

``write`` draws test writers' FEMNIST characters in every photo column of ``training.evaluate``
(``scans``) for each of the three models. ``read`` uses the ``recognizer`` of the current folder,
so run it from each commit's worktree.
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np

from recognizer import InvalidImageError, NoInkError, Recognizer
from recognizer.labels import BYCLASS, MODEL_LABELS

NAMES = ("digits", "letters", "characters")


def write(path: Path, data_dir: str, limit: int, seed: int = 7) -> None:
    """The pictures, as {"<model>/<column>": [(JPEG bytes, label), ...]}, pickled to ``path``."""
    from training.evaluate import SCAN_KINDS, held_out_femnist, scans

    x, labels, test = held_out_femnist(data_dir, BYCLASS, 42)
    pictures = {}
    for name in NAMES:
        rng = np.random.default_rng(seed)
        mine = [i for i in test if labels[i] in MODEL_LABELS[name]]
        chosen = rng.permutation(mine)[:limit]
        for column, setting in SCAN_KINDS.items():
            pictures[f"{name}/{column}"] = list(scans(x[chosen], list(labels[chosen]), rng, setting))
    path.write_bytes(pickle.dumps(pictures))


def read(pictures_path: Path, out: Path) -> None:
    """Every picture read by the committed model of its name: {"<model>/<column>": [label, ...]}."""
    pictures = pickle.loads(pictures_path.read_bytes())
    models = {name: Recognizer.load(name) for name in NAMES}
    readings = {}
    for key, items in pictures.items():
        model = models[key.split("/")[0]]
        readings[key] = [_label(model, data) for data, _ in items]
    out.write_text(json.dumps(readings))


def _label(model: Recognizer, data: bytes) -> str:
    try:
        return model.predict(data).label
    except (NoInkError, InvalidImageError):
        return ""


def compare(pictures_path: Path, before: Path, after: Path) -> list[dict]:
    """Each column's accuracy before and after, and how many readings were mended or broken."""
    pictures = pickle.loads(pictures_path.read_bytes())
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    rows = []
    for key, items in pictures.items():
        truth = [label for _, label in items]
        right_a = [x == t for x, t in zip(a[key], truth)]
        right_b = [x == t for x, t in zip(b[key], truth)]
        rows.append({
            "column": key,
            "n": len(truth),
            "before": round(100 * float(np.mean(right_a)), 2),
            "after": round(100 * float(np.mean(right_b)), 2),
            "changed": sum(x != y for x, y in zip(a[key], b[key])),
            "mended": sum(not x and y for x, y in zip(right_a, right_b)),
            "broken": sum(x and not y for x, y in zip(right_a, right_b)),
        })
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m training.paired_photos", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("pictures", type=Path)
    w.add_argument("--data-dir", default="../shared/data")
    w.add_argument("--limit", type=int, default=400, help="characters per model")
    r = sub.add_parser("read")
    r.add_argument("pictures", type=Path)
    r.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("pictures", type=Path)
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.command == "write":
        write(args.pictures, args.data_dir, args.limit)
    elif args.command == "read":
        read(args.pictures, args.out)
    else:
        print("| column | n | before | after | changed | mended | broken |\n" + "|---" * 7 + "|")
        row_format = "| {column} | {n} | {before:.1f}% | {after:.1f}% | {changed} | {mended} | {broken} |"
        for row in compare(args.pictures, args.before, args.after):
            print(row_format.format(**row))


if __name__ == "__main__":
    main()

"""How a model's sketch accuracy would spread over other groups of writers.

A held-out group of about 15 UniPen writers gives one figure, but writers differ
far more than samples do: one writer whose tablet lost strokes costs a group a
point. This resamples whole writers from the held-out groups recorded in the
model's JSON (``by_writer`` of ``sketch_draws``, written by ``training.evaluate
--sketch-draws N --write``) and reports the accuracy that groups of the same size
would have: its median, its 5th to 95th percentile, and how often it reaches a bar.

    python -m training.writer_spread digits [--group 15] [--bar 0.97]

The validation writers also served to choose between training runs, so a pool
that includes them leans a little in the model's favour; the test writers alone
are too few to resample well. Both are shown.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from recognizer.model import MODELS_DIR

RECORDS = {"test": "held_out_evaluation", "val": "validation_writers_evaluation"}
"""The held-out groups in a model's JSON, by the ``--split`` that wrote them."""


def writer_counts(meta: dict, splits: tuple[str, ...]) -> dict[str, tuple[int, float]]:
    """Each writer's (samples, right answers averaged over the draws) in the given held-out groups."""
    counts = {}
    for split in splits:
        by_writer = meta.get(RECORDS[split], {}).get("sketch_draws", {}).get("by_writer")
        if by_writer is None:
            raise SystemExit(
                f"{meta['name']}.json records no sketches by writer for the {split} writers: run "
                f"python -m training.evaluate {meta['name']} --split {split} --sketch-draws 8 --write"
            )
        counts.update({w: (v["n"], v["n"] * v["accuracy"]) for w, v in by_writer.items()})
    return counts


def group_accuracies(
    counts: dict[str, tuple[int, float]], group: int, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    """The sketch accuracy of ``rounds`` groups of ``group`` writers drawn with replacement.

    A group's accuracy counts samples, not writers, as a test over its samples would.
    """
    n, right = (np.array(column, dtype=np.float64) for column in zip(*counts.values()))
    picks = rng.integers(0, len(n), size=(rounds, group))
    return right[picks].sum(axis=1) / n[picks].sum(axis=1)


def spread(accuracies: np.ndarray, bar: float) -> dict:
    """Median, 5th and 95th percentiles, and the share of groups at or over ``bar``."""
    low, median, high = np.percentile(accuracies, [5, 50, 95])
    return {
        "median": round(float(median), 4),
        "p5": round(float(low), 4),
        "p95": round(float(high), 4),
        "share_at_bar": round(float((accuracies >= bar).mean()), 3),
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m training.writer_spread")
    p.add_argument("model")
    p.add_argument("--group", type=int, default=15, help="writers in a group (our test group has 15)")
    p.add_argument("--bar", type=float, default=0.97)
    p.add_argument("--rounds", type=int, default=20000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    meta = json.loads((MODELS_DIR / f"{args.model}.json").read_text())
    result = {}
    for name, splits in {"test writers": ("test",), "test and validation writers": ("test", "val")}.items():
        counts = writer_counts(meta, splits)
        accuracies = group_accuracies(counts, args.group, args.rounds, np.random.default_rng(args.seed))
        result[name] = {"writers": len(counts), **spread(accuracies, args.bar)}
    print(json.dumps({"model": args.model, "group": args.group, "bar": args.bar, **result}, indent=2))
    return result


if __name__ == "__main__":
    main()

"""Fine-tune a served model on user feedback, and promote it only if it is better.

    python -m training.retrain digits --feedback data/feedback           # or an export .npz
    python -m training.retrain digits --feedback fb.npz --data-dir ../shared/data/mnist --dry-run
    python -m training.retrain lines --feedback data/feedback     # the line model: training/retrain_lines.py

Starts from the float weights behind the served int8 model
(``models/<name>.weights.npz``), trains a few epochs on the feedback mixed with
a replay of the base training data (so that the model does not forget what it
knew), converts to int8 with the export's own functions, and scores the old and
the new int8 models on the same held-out base test set and on held-out feedback.

Which feedback is held out depends on a hash of its id only, so a record stays
held out in every later retraining as well and is never trained on.

The new model replaces the old one only if it is **not worse on the base test**
(a drop of at most one binomial standard error of the old score, sqrt(p(1-p)/n):
a smaller difference is within what another test set of that size could give
by chance) **and strictly better on the held-out feedback**.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from recognizer.labels import BYCLASS, has_dots


@dataclass
class Sets:
    """Images (N, 28, 28) uint8 and label indices for training and for testing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.retrain", description=__doc__.split("\n")[0],
                                epilog="The line model: python -m training.retrain lines --help")
    p.add_argument("model", choices=["digits", "letters", "characters"])
    p.add_argument("--feedback", required=True,
                   help="feedback data folder, or a .npz from `python -m recognizer.feedback export`")
    p.add_argument("--models-dir", default="models", help="where <model>.tflite/.json/.weights.npz are")
    p.add_argument("--data-dir", help="base data (default: the training args recorded in <model>.json)")
    p.add_argument("--sources", help="base data sources (default: as recorded)")
    p.add_argument("--limit", type=int, help="use only the first N base images of each source (smoke tests)")
    p.add_argument("--base-npz",
                   help="a small base set instead: x uint8 (N,28,28) raw, y byclass; half replay, half test")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-layers", type=int, default=2,
                   help="train only the last N layers that have weights (0: all)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--replay", type=float, default=4.0, help="base images mixed in per feedback image")
    add_gate_arguments(p, "largest base-test accuracy drop allowed")
    return p.parse_args(argv)


def add_gate_arguments(p: argparse.ArgumentParser, tolerance_help: str) -> None:
    """The gate's options, the same for a character model and the line model: what feedback is held
    out, how much worse the base test may get (``tolerance_help`` says in what), the seed, dry run."""
    p.add_argument("--held-out-share", type=float, default=0.25,
                   help="share of the feedback kept out of training, to compare old and new on")
    p.add_argument("--tolerance", type=float,
                   help=f"{tolerance_help}, in points (default: one standard error)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="compare and report, never replace the model")


# -- data ------------------------------------------------------------------------------------


def held_out(record_id: str, share: float) -> bool:
    """Whether a feedback record is held out: fixed by its id, so it is never trained on later either."""
    return int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16) / 2**32 < share


def feedback_sets(source: str, model: str, labels: list[str], held_out_share: float) -> tuple[Sets, dict]:
    """The model's feedback, split into training and held-out parts, and the ids of each."""
    from recognizer.feedback.export import load_arrays

    data = load_arrays(source, model)
    index = {label: i for i, label in enumerate(labels)}
    keep = np.array([label in index for label in data["y"]], dtype=bool)
    x, ids = data["x"][keep], data["id"][keep]
    y = np.array([index[label] for label in data["y"][keep]], dtype=np.int64)
    test = np.array([held_out(i, held_out_share) for i in ids], dtype=bool)
    if (~test).sum() < 1 or test.sum() < 1:
        raise SystemExit(f"{len(ids)} feedback records for {model!r} in {source}: too few to train on and "
                         "to hold some out; collect more feedback first")
    sets = Sets(x[~test], y[~test], x[test], y[test], f"{len(ids)} feedback records from {source}")
    return sets, {"train": ids[~test].tolist(), "held_out": ids[test].tolist()}


def base_sets(args: argparse.Namespace, meta: dict) -> Sets:
    """The base data: the recorded training data (with any overrides), or a small npz."""
    labels = meta["labels"]
    if args.base_npz:
        from training.data.base import preprocess_all

        with np.load(args.base_npz) as data:
            x, y = data["x"], data["y"]
        chars = np.asarray(BYCLASS)[y]
        keep = np.isin(chars, labels)
        x = preprocess_all(x[keep], keep_dots=has_dots(labels))
        y = np.array([labels.index(c) for c in chars[keep]], dtype=np.int64)
        order = np.random.default_rng(args.seed).permutation(len(y))
        train, test = order[: len(y) // 2], order[len(y) // 2 :]
        return Sets(x[train], y[train], x[test], y[test], f"{args.base_npz}: {len(test)} test images")

    from training.datasets import load_task

    recorded = meta.get("training", {}).get("args", {})
    data = load_task(args.model, args.sources or recorded.get("sources"),
                     args.data_dir or recorded.get("data_dir"), recorded.get("emnist_zip"),
                     args.limit or recorded.get("limit"), recorded.get("seed", 42))
    return Sets(data.train.x, data.train.y, data.test.x, data.test.y,
                f"base test set of {len(data.test)} images ({', '.join(data.sources)})")


# -- training and the decision ---------------------------------------------------------------


def fine_tune(model, labels: list[str], feedback: Sets, base: Sets, args: argparse.Namespace):
    """A few epochs on the feedback plus a replay of base images, training only the top layers.

    Feedback sets are small: training only the last ``--train-layers`` layers
    (the last convolution and the classifier by default) keeps the features
    learnt from the whole base set, and BatchNorm is frozen because a few
    hundred images would shift the statistics that every base image depends on.
    (On the tests' slanted digits, training every layer cost 2-3 of 250 MNIST
    test digits; training the last two usually cost none.)
    """
    import keras

    from training.augment import make_augmenter
    from training.train import make_dataset

    rng = np.random.default_rng(args.seed)
    n_replay = min(len(base.y_train), int(math.ceil(args.replay * len(feedback.y_train))))
    replay = rng.choice(len(base.y_train), n_replay, replace=False)
    x = np.concatenate([feedback.x_train, base.x_train[replay]])
    y = np.concatenate([feedback.y_train, base.y_train[replay]])
    trainable = [layer for layer in model.layers
                 if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    for layer in model.layers:
        layer.trainable = layer in trainable[-args.train_layers:] if args.train_layers else True
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(args.lr))
    augment = make_augmenter(labels)
    model.fit(make_dataset(x, y, args.batch_size, augment, args.seed), epochs=args.epochs, verbose=0)
    return model, n_replay


def standard_error(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on n images, in points."""
    return 100 * math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(n, 1))


def decide(old: dict, new: dict, tolerance: float, lower_is_better: bool = False) -> tuple[bool, str]:
    """Promote only if not worse on the base test (within ``tolerance`` points) and better on feedback.

    Scores are shares (accuracy; or an error rate such as CER with ``lower_is_better``)."""
    sign = -1 if lower_is_better else 1
    drop = 100 * sign * (old["base"] - new["base"])
    if drop > tolerance:
        return False, f"worse on the base test by {drop:.2f} points (tolerance {tolerance:.2f})"
    if sign * (new["feedback"] - old["feedback"]) <= 0:
        return False, "not better on the held-out feedback"
    return True, f"better on the held-out feedback, base test within {tolerance:.2f} points"


def comparison_table(
    old: dict, new: dict, n_base: int, n_feedback: int, tolerance: float, metric: str = "accuracy"
) -> str:
    rows = [("base test", n_base, "base"), ("held-out feedback", n_feedback, "feedback")]
    lines = [f"{metric:26}{'old':>9}{'new':>9}{'change':>9}"]
    for name, n, key in rows:
        change = 100 * (new[key] - old[key])
        lines.append(f"{name + f' (n={n})':26}{old[key]:9.2%}{new[key]:9.2%}{change:+9.2f}")
    lines.append(f"tolerance on the base test: {tolerance:.2f} points")
    return "\n".join(lines)


def verdict(args: argparse.Namespace, argv: list[str] | None, old: dict, new: dict, tolerance: float,
            n_base: int, n_feedback: int, metric: str = "accuracy") -> dict:
    """Decide, print the comparison and the verdict, and return the start of the retraining record."""
    promote, reason = decide(old, new, tolerance, lower_is_better=metric != "accuracy")
    print(comparison_table(old, new, n_base, n_feedback, tolerance, metric))
    print(("PROMOTED: " if promote and not args.dry_run else "not promoted: ") + reason
          + (" (dry run)" if args.dry_run else ""))
    return {
        "promoted": promote and not args.dry_run,
        "reason": reason,
        "old": old,
        "new": new,
        "tolerance_points": round(tolerance, 4),
        "command": "python -m training.retrain " + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def promote_files(models: Path, name: str, meta: dict, content: bytes, result: dict, save_weights) -> None:
    """Replace ``<name>.tflite``, its float weights (``save_weights(path)``) and ``<name>.json``, which
    gains the new sha256, size and date and the retraining record."""
    (models / f"{name}.tflite").write_bytes(content)
    save_weights(models / f"{name}.weights.npz")
    meta.update({"sha256": hashlib.sha256(content).hexdigest(), "size_bytes": len(content),
                 "date": result["date"]})
    meta.setdefault("retraining", []).append(result)
    (models / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {models / name}.tflite, .json, .weights.npz")


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    """Retrain the model named first in ``argv``; the line model has its own options (retrain_lines)."""
    if (sys.argv[1:] if argv is None else argv)[:1] == ["lines"]:
        from training.retrain_lines import main as retrain_lines

        return retrain_lines(argv)
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from export.__main__ import convert_int8, score_tflite
    from export.float_model import load_float_model, save_float_weights
    from training.train import accuracy_report

    models = Path(args.models_dir)
    meta = json.loads((models / f"{args.model}.json").read_text())
    old_content = (models / f"{args.model}.tflite").read_bytes()
    labels = meta["labels"]
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()  # the same feedback and seed give the same model

    feedback, feedback_ids = feedback_sets(args.feedback, args.model, labels, args.held_out_share)
    base = base_sets(args, meta)
    print(f"{feedback.description}: {len(feedback.y_train)} to train on, {len(feedback.y_test)} held out; "
          f"{base.description}", flush=True)

    model = load_float_model(meta["arch"], len(labels), models / f"{args.model}.weights.npz")
    model, n_replay = fine_tune(model, labels, feedback, base, args)
    calibration = np.concatenate([base.x_train[:1000], feedback.x_train])
    new_content = convert_int8(model, calibration)

    def score(content: bytes) -> tuple[dict, np.ndarray]:
        """Accuracy on the base test and the held-out feedback, and the base test predictions."""
        base_pred = score_tflite(content, meta, base.x_test)
        feedback_pred = score_tflite(content, meta, feedback.x_test)
        return {"base": float((base_pred == base.y_test).mean()),
                "feedback": float((feedback_pred == feedback.y_test).mean())}, base_pred

    (old, _), (new, new_base_pred) = score(old_content), score(new_content)
    tolerance = args.tolerance
    if tolerance is None:
        tolerance = standard_error(old["base"], len(base.y_test))
    result = verdict(args, argv, old, new, tolerance, len(base.y_test), len(feedback.y_test))
    result.update({
        "base_test": base.description,
        "n_base_test": len(base.y_test),
        "feedback_source": str(args.feedback),
        "feedback_ids": feedback_ids,
        "replay_images": n_replay,
        "previous_sha256": hashlib.sha256(old_content).hexdigest(),
    })
    if result["promoted"]:
        if not (args.base_npz or args.data_dir or args.sources or args.limit):  # the test set of the card
            report = accuracy_report(labels, base.y_test, new_base_pred)
            meta["accuracy"]["int8"] = {k: report[k] for k in ("n", "accuracy", "case_insensitive_accuracy")}
        promote_files(models, args.model, meta, new_content, result, partial(save_float_weights, model))
    return result


if __name__ == "__main__":
    main()

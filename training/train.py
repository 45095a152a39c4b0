"""Train a recognizer CNN.

    python -m training.train digits --data-dir ../shared/data/mnist
    python -m training.train characters --data-dir ../shared/data --sources femnist,unipen

Writes to ``--out`` (default ``runs/<task>``): ``model.keras``, ``report.json``
(data, command, epochs, curves, test accuracy), ``config.json`` and
``run_command.txt``. ``python -m export <task> --run <out>`` then makes the
int8 TFLite model that the app serves.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    p.add_argument("task", choices=["digits", "letters", "characters"])
    p.add_argument(
        "--data-dir", help="local data (MNIST IDX folder for digits; a folder of sources otherwise)"
    )
    p.add_argument("--emnist-zip", help="path to EMNIST's emnist.zip (default: the emnist package cache)")
    p.add_argument("--sources", help="comma-separated: mnist, emnist, femnist, unipen")
    p.add_argument("--arch", help="architecture (training/architectures.py); default: the best measured "
                   "for the task, seed_nopool_wide for digits, seed_wide otherwise; "
                   "'seed' is the original CNN")
    p.add_argument("--epochs", type=int, default=None, help="default: 15 for digits, 20 otherwise")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the cosine schedule")
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--elastic", type=float, default=0.0,
                   help="elastic warp strength in pixels (training/augment.py: elastic_warp); 0 turns it off")
    p.add_argument("--elastic-share", type=float, default=0.5, help="share of the images that are warped")
    p.add_argument(
        "--balance",
        type=float,
        default=0.5,
        help="class weights are (count / mean count) ** -balance: 0 keeps priors, 1 fully balances",
    )
    p.add_argument(
        "--renderings",
        type=int,
        default=1,
        help="draw each UniPen training trajectory this many times, each with its own random brush",
    )
    p.add_argument(
        "--writing-styles",
        type=float,
        default=0.0,
        help="share of the 0, 1, 7 and Z/z in the extra --renderings drawn with a slashed zero, "
        "a continental one or a crossed bar (training/data/styles.py)",
    )
    p.add_argument(
        "--habits",
        help="only these characters get a writing habit, e.g. '07' for slashed zeros and crossed "
        "sevens without continental ones (default: 017Zz)",
    )
    p.add_argument(
        "--pens",
        type=float,
        default=0.0,
        help="add this share of the training images again, redrawn with a thin or a fat pen "
        "(training/data/pens.py)",
    )
    p.add_argument(
        "--init-weights",
        help="fine-tune from a trained model: runs/<run>/model.keras, or float weights such as "
        "models/digits.weights.npz (same --arch)",
    )
    p.add_argument("--limit", type=int, help="use only the first N images of each source (smoke tests)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--out", help="output folder (default runs/<task>)")
    return p.parse_args(argv)


def strategy():
    """Every GPU through MirroredStrategy when there are several; the default device otherwise."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def make_dataset(x: np.ndarray, y: np.ndarray, batch: int, augment=None, seed: int = 0, weights=None):
    import tensorflow as tf

    inputs = (x.astype(np.float32) / 255.0)[..., None]
    if weights is not None:
        ds = tf.data.Dataset.from_tensor_slices((inputs, y, weights[y].astype(np.float32)))
    else:
        ds = tf.data.Dataset.from_tensor_slices((inputs, y))
    if augment is not None:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch)
    if augment is not None:
        ds = ds.map(lambda im, lab, *w: (*augment(im, lab), *w), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def class_weights(y: np.ndarray, n: int, balance: float) -> np.ndarray:
    """(count / mean count) ** -balance, normalised so the mean sample weight is 1."""
    counts = np.bincount(y, minlength=n).astype(np.float64)
    w = np.where(counts > 0, (np.maximum(counts, 1) / counts[counts > 0].mean()) ** -balance, 0.0)
    return w / (w[y].mean())


def accuracy_report(labels: list[str], y: np.ndarray, pred: np.ndarray) -> dict:
    """Exact and case-insensitive accuracy, and per-class accuracy."""
    from recognizer.labels import fold_case

    names = np.asarray(labels)
    folded = np.array([fold_case(c) for c in labels])
    per_class = {
        labels[c]: round(float((pred[y == c] == c).mean()), 4) for c in range(len(labels)) if (y == c).any()
    }
    return {
        "n": int(len(y)),
        "accuracy": round(float((pred == y).mean()), 5),
        "case_insensitive_accuracy": round(float((folded[pred] == folded[y]).mean()), 5),
        "per_class": per_class,
        "confusions": _top_confusions(names, y, pred),
    }


def _top_confusions(names: np.ndarray, y: np.ndarray, pred: np.ndarray, k: int = 15) -> list:
    wrong = y != pred
    pairs, counts = np.unique(np.stack([y[wrong], pred[wrong]], 1), axis=0, return_counts=True)
    order = np.argsort(-counts)[:k]
    return [[str(names[pairs[i, 0]]), str(names[pairs[i, 1]]), int(counts[i])] for i in order]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from training import architectures
    from training.augment import make_augmenter
    from training.datasets import load_task, source_parts

    epochs = args.epochs or (15 if args.task == "digits" else 20)
    args.arch = args.arch or ("seed_nopool_wide" if args.task == "digits" else "seed_wide")
    out = Path(args.out or f"runs/{args.task}")
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m training.train " + shlex.join(sys.argv[1:] if argv is None else argv)
    keras.utils.set_random_seed(args.seed)

    t0 = time.time()
    data = load_task(
        args.task,
        args.sources,
        args.data_dir,
        args.emnist_zip,
        args.limit,
        args.seed,
        renderings=args.renderings,
        styles=args.writing_styles,
        habits=args.habits,
        pens=args.pens,
    )
    n_classes = len(data.labels)
    print(
        f"data: train {len(data.train)}, val {len(data.val)}, test {len(data.test)} "
        f"({time.time() - t0:.0f}s) {data.sources}",
        flush=True,
    )

    weights = class_weights(data.train.y, n_classes, args.balance) if args.balance else None
    augment = None
    if not args.no_augment:
        augment = make_augmenter(data.labels, elastic=args.elastic, elastic_share=args.elastic_share)
    train_ds = make_dataset(data.train.x, data.train.y, args.batch_size, augment, args.seed, weights)
    val_ds = make_dataset(data.val.x, data.val.y, 512)

    with strategy().scope():
        if args.init_weights and args.init_weights.endswith(".keras"):
            model = keras.saving.load_model(args.init_weights)
            if model.name != args.arch:  # the report and the export record args.arch
                raise SystemExit(f"{args.init_weights} is a {model.name} model: pass --arch {model.name}")
        elif args.init_weights:
            from export.float_model import load_float_model

            model = load_float_model(args.arch, n_classes, args.init_weights)
        else:
            model = architectures.build(args.arch, n_classes)
        steps = epochs * int(np.ceil(len(data.train) / args.batch_size))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, steps, warmup_target=args.lr, warmup_steps=max(1, steps // 20)
        )
        model.compile(
            loss="sparse_categorical_crossentropy",
            optimizer=keras.optimizers.Adam(schedule),
            metrics=["accuracy"],
        )
    print(f"model {args.arch}: {model.count_params()} parameters, {epochs} epochs", flush=True)
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=2)
    model.save(out / "model.keras")  # first: hours of training are not lost to a failure in the report

    probs = model.predict(data.test.x.astype(np.float32)[..., None] / 255.0, batch_size=1024, verbose=0)
    test = accuracy_report(data.labels, data.test.y, probs.argmax(1))
    pred = probs.argmax(1)
    for name, part in source_parts(data).items():
        scores = accuracy_report(data.labels, data.test.y[part], pred[part])
        data.sources[name]["test_accuracy"] = {k: v for k, v in scores.items() if k != "per_class"}
    print(
        f"test accuracy {test['accuracy']:.4f} (case-insensitive {test['case_insensitive_accuracy']:.4f}) "
        f"on {test['n']} images; {time.time() - t0:.0f}s in all",
        flush=True,
    )

    report = {
        "task": args.task,
        "labels": data.labels,
        "arch": args.arch,
        "parameters": int(model.count_params()),
        "command": command,
        "args": vars(args),
        "data": data.sources,
        "epochs": epochs,
        "curves": {k: [round(float(v), 5) for v in vals] for k, vals in history.history.items()},
        "test": test,
        "train_seconds": round(time.time() - t0, 1),
        "tensorflow": tf.__version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "config.json").write_text(
        json.dumps({k: report[k] for k in ("task", "arch", "labels", "args")}, indent=2)
    )
    (out / "run_command.txt").write_text(command + "\n")
    return report


if __name__ == "__main__":
    main()

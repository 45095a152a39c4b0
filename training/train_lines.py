"""Train the line model (``training/line_model.py``) with CTC on UniPen lines (``data/text_lines.py``).

    python -m training.train_lines --epochs 5 --out runs/lines

Batches hold lines of similar width, padded to the widest. Each epoch stretches every line
across by a random 0.8-1.25, so that the model sees each hand a little narrower or wider.
Writes ``model.keras`` (the best epoch by validation CER), ``report.json`` and
``run_command.txt`` to ``--out``; ``python -m export.lines`` makes the int8 TFLite model.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from recognizer.preprocess.text_line import LINE_HEIGHT
from recognizer.text_decode import best_path, character_error_rate
from training.data import unipen
from training.data.text_lines import LINE_ALPHABET, WORDS_PATH, LineSet, load_lines
from training.line_model import STEP, line_cnn

BLANK = len(LINE_ALPHABET)
"""CTC's blank is the last class."""
_INDEX = {c: i for i, c in enumerate(LINE_ALPHABET)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train_lines", description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--width", type=int, default=32, help="channels of the first block (line_model.line_cnn)")
    p.add_argument("--batch-pixels", type=int, default=48 * 160, help="lines x padded width per batch")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the cosine schedule")
    p.add_argument("--photo-share", type=float, default=0.25, help="share of lines drawn as photos or scans")
    p.add_argument(
        "--drawings",
        type=int,
        default=1,
        help="draw each training line this many times, each with its own brush, size and paper",
    )
    p.add_argument(
        "--float32",
        action="store_true",
        help="train in float32 (default: bfloat16 mixed precision, "
        "1.7 times faster on CPUs with AMX or AVX-512 BF16)",
    )
    p.add_argument("--hours", type=float, default=None, help="stop after this long, keeping the best epoch")
    p.add_argument("--words", default=str(WORDS_PATH), help="UniPen words file (unipen_words_dev.jsonl.gz)")
    p.add_argument("--characters", default=str(unipen.DEFAULT_PATH), help="UniPen characters file")
    p.add_argument(
        "--resume", help="start from this model.keras (its weights), e.g. an earlier run's best epoch"
    )
    p.add_argument("--limit", type=int, help="read only this many samples of each file (a smoke test)")
    p.add_argument("--out", default="runs/lines")
    return p.parse_args(argv)


def joined(sets: list[LineSet]) -> LineSet:
    """Several drawings of the same lines as one set."""
    if len(sets) == 1:
        return sets[0]
    return LineSet(
        [im for s in sets for im in s.images],
        [t for s in sets for t in s.texts],
        *(np.concatenate([getattr(s, name) for s in sets]) for name in ("kinds", "writers", "drawn")),
    )


def usable(lines: LineSet) -> np.ndarray:
    """Lines CTC can learn: enough steps for the text (with a blank between repeats), and not a
    segment that holds several lines stacked (far narrower than its text is long)."""
    return np.array(
        [
            im.shape[1] >= _narrowest(t) and im.shape[1] >= 5 * len(t)
            for im, t in zip(lines.images, lines.texts)
        ]
    )


def batches(lines: LineSet, index: np.ndarray, batch_pixels: int, rng: np.random.Generator | None):
    """Yield (images, labels, label lengths, step counts) of lines of similar width.

    With ``rng``, the lines are shuffled within widths, stretched across at random and the batches
    come in random order; without, they come in width order, unchanged (validation)."""
    widths = np.array([lines.images[i].shape[1] for i in index])
    noise = rng.uniform(0, 8, len(index)) if rng is not None else 0
    order = index[np.argsort(widths + noise, kind="stable")]
    groups, group, widest = [], [], 0
    for i in order:
        w = lines.images[i].shape[1] * (1.25 if rng is not None else 1)
        if group and max(widest, w) * (len(group) + 1) > batch_pixels:
            groups.append(group)
            group, widest = [], 0
        group.append(i)
        widest = max(widest, w)
    groups.append(group)
    if rng is not None:
        rng.shuffle(groups)
    for group in groups:
        images = [lines.images[i] for i in group]
        if rng is not None:  # never so narrow that CTC cannot place the text (its loss is then infinite)
            factors = [
                max(rng.uniform(0.8, 1.25), _narrowest(lines.texts[i]) / im.shape[1])
                for im, i in zip(images, group)
            ]
            images = [_stretched(im, f) for im, f in zip(images, factors)]
        width = -(-max(im.shape[1] for im in images) // STEP) * STEP
        x = np.zeros((len(group), LINE_HEIGHT, width, 1), np.uint8)
        for k, im in enumerate(images):
            x[k, :, : im.shape[1], 0] = im
        texts = [lines.texts[i] for i in group]
        longest = max(len(t) for t in texts)
        y = np.zeros((len(group), longest), np.int32)
        for k, t in enumerate(texts):
            y[k, : len(t)] = [_INDEX[c] for c in t]
        steps = np.array([-(-im.shape[1] // STEP) for im in images], np.int32)
        yield x, y, np.array([len(t) for t in texts], np.int32), steps, group


def _narrowest(text: str) -> int:
    """The fewest pixels across in which CTC can place ``text``: a step per character, and a blank
    between repeats."""
    return STEP * (len(text) + sum(a == b for a, b in zip(text, text[1:])))


def _stretched(image: np.ndarray, factor: float) -> np.ndarray:
    width = max(STEP, round(image.shape[1] * factor))
    return np.asarray(Image.fromarray(image).resize((width, image.shape[0]), Image.Resampling.BILINEAR))


def evaluate(model, lines: LineSet, index: np.ndarray, batch_pixels: int) -> dict:
    """CER and exact share, overall and by kind and drawing, greedy decoding."""
    import tensorflow as tf

    read = {}
    for x, _, _, steps, group in batches(lines, index, batch_pixels, None):
        logits = np.asarray(model(tf.constant(x), training=False), np.float32)[:, 0]
        for k, i in enumerate(group):
            read[i] = best_path(logits[k, : steps[k]], LINE_ALPHABET)[0]
    report = {}
    for name, members in _groups(lines, index).items():
        truth = [lines.texts[i] for i in members]
        guess = [read[i] for i in members]
        report[name] = {
            "n": len(members),
            "cer": round(100 * character_error_rate(truth, guess), 2),
            "exact": round(100 * float(np.mean([t == g for t, g in zip(truth, guess)])), 2),
        }
    return report


def _groups(lines: LineSet, index: np.ndarray) -> dict[str, list[int]]:
    groups = {"all": list(index)}
    for i in index:
        groups.setdefault(f"{lines.kinds[i]}/{lines.drawn[i]}", []).append(i)
    return dict(sorted(groups.items()))


def ctc_train_step(model, optimizer):
    """One CTC training step on a batch of :func:`batches` (shared with ``training.retrain_lines``).

    Lines whose loss is infinite (too narrow for their text) count for nothing, and a batch whose
    gradient is not finite changes no weight: one bad batch must not turn every weight into NaN."""
    import tensorflow as tf

    signature = [
        tf.TensorSpec((None, LINE_HEIGHT, None, 1), tf.uint8),
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.int32),
    ]

    @tf.function(input_signature=signature)
    def step(x, y, label_length, logit_length):
        with tf.GradientTape() as tape:
            logits = tf.cast(model(x, training=True)[:, 0], tf.float32)
            per_line = tf.nn.ctc_loss(
                y, logits, label_length, logit_length, logits_time_major=False, blank_index=BLANK
            )
            loss = tf.reduce_mean(tf.where(tf.math.is_finite(per_line), per_line, 0.0))
        grads = tape.gradient(loss, model.trainable_variables)
        grads, norm = tf.clip_by_global_norm(grads, 5.0)
        finite = tf.math.is_finite(norm)
        grads = [tf.where(finite, g, tf.zeros_like(g)) for g in grads]
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def train(args: argparse.Namespace) -> dict:
    import keras

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run_command.txt").write_text(
        shlex.join([sys.executable, "-m", "training.train_lines", *sys.argv[1:]])
    )
    data = {
        "words_path": args.words,
        "chars_path": args.characters,
        "photo_share": args.photo_share,
        "limit": args.limit,
    }
    train_set = joined([load_lines("train", seed=seed, **data) for seed in range(args.drawings)])
    val_set = load_lines("val", **data)
    train_index = np.flatnonzero(usable(train_set))
    val_index = np.flatnonzero(usable(val_set))
    print(f"train {len(train_index)} of {len(train_set)} lines, val {len(val_index)}", flush=True)

    if not args.float32:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = line_cnn(len(LINE_ALPHABET) + 1, args.width)
    if args.resume:
        model.load_weights(args.resume)
    rng = np.random.default_rng(0)
    steps_per_epoch = sum(
        1 for _ in batches(train_set, train_index, args.batch_pixels, np.random.default_rng(1))
    )
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr / 10,
        steps_per_epoch * args.epochs,
        alpha=0.02,
        warmup_target=args.lr,
        warmup_steps=steps_per_epoch // 4,
    )
    optimizer = keras.optimizers.Adam(schedule)

    step = ctc_train_step(model, optimizer)

    history, best, started = [], None, time.time()
    for epoch in range(args.epochs):
        losses, t0 = [], time.time()
        for n, (x, y, label_length, logit_length, _) in enumerate(
            batches(train_set, train_index, args.batch_pixels, rng)
        ):
            losses.append(float(step(x, y, label_length, logit_length)))
            if n % 200 == 0:
                print(
                    f"epoch {epoch + 1} step {n}/{steps_per_epoch} loss {np.mean(losses[-200:]):.3f} "
                    f"{time.time() - t0:.0f}s",
                    flush=True,
                )
            if args.hours and time.time() - started > args.hours * 3600:
                break
        scores = evaluate(model, val_set, val_index, args.batch_pixels * 2)
        history.append(
            {
                "epoch": epoch + 1,
                "loss": float(np.mean(losses)),
                "val": scores,
                "seconds": round(time.time() - t0),
            }
        )
        print(json.dumps(history[-1]), flush=True)
        if best is None or scores["all"]["cer"] < best["val"]["all"]["cer"]:
            best = history[-1]
            model.save(out / "model.keras")
        if args.hours and time.time() - started > args.hours * 3600:
            break
    report = {
        "alphabet": LINE_ALPHABET,
        "width": args.width,
        "train_lines": int(len(train_index)),
        "val_lines": int(len(val_index)),
        "data": data,
        "drawings": args.drawings,
        "best_epoch": best["epoch"],
        "val": best["val"],
        "history": history,
        "command": (out / "run_command.txt").read_text(),
    }
    (out / "report.json").write_text(json.dumps(report, indent=1))
    return report


def main(argv: list[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()

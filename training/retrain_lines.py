"""Fine-tune the line model on feedback on whole lines, and promote it only if it is better.

    python -m training.retrain lines --feedback data/feedback     # or an export .npz (--model lines)
    python -m training.retrain lines --feedback fb.npz --dry-run
    python -m training.retrain lines --feedback fb.npz --base-lines small_base.jsonl.gz  # no UniPen files

As ``training.retrain`` does for a character model: starts from the float weights behind the served
int8 model (``models/lines.weights.npz``), trains a few epochs with CTC on the feedback's lines mixed
with a replay of base training lines (``training/data/text_lines.py``, so that the model does not
forget how the training writers write), converts to int8 with ``export.lines.convert_int8``, and reads
held-out feedback and a sample of the base test writers' lines with the old and the new int8 model
through the serving code (``TextReader.logits``, greedy decoding, each feedback line with the alphabet
it was read with in the app). Which feedback is held out depends on a hash of its id only
(``training.retrain.held_out``), so a record held out once is never trained on.

The new model replaces the old one only if its **CER on the base test sample is at most one standard
error above the old one's** and its **CER on the held-out feedback is strictly lower**. The standard
error is the old CER's, with lines as the unit (the errors of one line go together:
:func:`cer_standard_error`); on the default 1,000 test lines it is about 1 point, so a loss of more
than about a point is refused, while a smaller difference, which another sample of that size could
give by chance, is not.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from training.retrain import add_gate_arguments, held_out, promote_files, verdict

MODEL = "lines"
TEST_LINES = 1000
"""Base test lines scored by default: enough for a standard error under a point, read twice (old and
new model) in about half a minute on one core."""
CALIBRATION_LINES = 400
"""Base training lines that calibrate the int8 conversion, as ``export.lines`` does."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.retrain lines", description=__doc__.split("\n")[0])
    p.add_argument("model", choices=[MODEL])
    p.add_argument(
        "--feedback",
        required=True,
        help="feedback data folder, or a .npz of `python -m recognizer.feedback export --model lines`",
    )
    p.add_argument("--models-dir", default="models", help="where lines.tflite/.json/.weights.npz are")
    p.add_argument("--words", help="UniPen words file (default: as recorded in lines.json)")
    p.add_argument("--characters", help="UniPen characters file (default: as recorded in lines.json)")
    p.add_argument("--limit", type=int, help="read only this many samples of each base file (smoke tests)")
    p.add_argument(
        "--base-lines",
        help="a small base set instead: a .jsonl.gz of lines (text, writer, kind, strokes), as "
        "tests/fixtures/unipen_lines_sample.jsonl.gz; half replay, half test",
    )
    p.add_argument("--test-lines", type=int, default=TEST_LINES, help="base test lines to score on")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument(
        "--train-layers",
        type=int,
        default=4,
        help="train only the last N layers that have weights, BatchNorm aside (0: all); by default the "
        "last row convolution, the two along the line and the classifier",
    )
    p.add_argument("--batch-pixels", type=int, default=48 * 160, help="lines x padded width per batch")
    p.add_argument("--replay", type=float, default=4.0, help="base lines mixed in per feedback line")
    add_gate_arguments(p, "largest base-test CER rise allowed")
    return p.parse_args(argv)


# -- data --------------------------------------------------------------------------------------------


def feedback_lines(source: str, held_out_share: float) -> tuple[dict, dict, dict]:
    """Feedback on lines, split into a training and a held-out part (each: images, texts, readers),
    and the ids of each."""
    from recognizer.feedback.export import load_arrays
    from training.data.text_lines import LINE_ALPHABET

    data = load_arrays(source, MODEL)
    keep = [k for k, text in enumerate(data["y"]) if text and set(text) <= set(LINE_ALPHABET)]
    test = np.array([held_out(data["id"][k], held_out_share) for k in keep], dtype=bool)
    if (~test).sum() < 1 or test.sum() < 1:
        raise SystemExit(
            f"{len(keep)} feedback records on lines in {source}: too few to train on and to "
            "hold some out; collect more feedback first"
        )
    parts = {}
    for name, chosen in (("train", ~test), ("held_out", test)):
        index = [k for k, c in zip(keep, chosen) if c]
        parts[name] = {
            "images": [data["x"][k, :, : data["width"][k]] for k in index],
            "texts": [str(data["y"][k]) for k in index],
            "readers": [str(data["reader"][k]) or "characters" for k in index],
            "ids": [str(data["id"][k]) for k in index],
        }
    ids = {name: part.pop("ids") for name, part in parts.items()}
    return parts["train"], parts["held_out"], ids


def base_lines(
    args: argparse.Namespace, meta: dict
) -> tuple[list[tuple[np.ndarray, str]], list[np.ndarray], list[str], str]:
    """Base training lines for replay and calibration, as (image, text), and the base test lines:
    (training lines, test images, test texts, a description of the test)."""
    from training.data import unipen
    from training.data.text_lines import WORDS_PATH, Line, line_image, load_lines
    from training.train_lines import usable

    rng = np.random.default_rng(args.seed)
    if args.base_lines:
        with gzip.open(args.base_lines, "rt") as f:
            rows = [json.loads(row) for row in f]
        lines = [Line.from_row(r) for r in rows]
        drawn = [line_image(line, args.seed * 100_003 + k)[0] for k, line in enumerate(lines)]
        order = rng.permutation(len(lines))
        train, test = order[: len(order) // 2], order[len(order) // 2 :][: args.test_lines]
        return (
            [(drawn[i], lines[i].text) for i in train],
            [drawn[i] for i in test],
            [lines[i].text for i in test],
            f"{args.base_lines}: {len(test)} test lines",
        )

    recorded = meta.get("training", {}).get("data_args", {})
    data = {
        "words_path": args.words or recorded.get("words_path") or str(WORDS_PATH),
        "chars_path": args.characters or recorded.get("chars_path") or str(unipen.DEFAULT_PATH),
        "photo_share": recorded.get("photo_share", 0.25),
        "limit": args.limit or recorded.get("limit"),
    }
    try:
        train, test = load_lines("train", **data), load_lines("test", **data)
    except FileNotFoundError as e:
        raise SystemExit(
            f"base data not found ({e.filename or e}): the line model's replay and base test need the UniPen "
            f"words and characters files ({data['words_path']}, {data['chars_path']}). Give them with "
            "--words and --characters, or a small base set with --base-lines (a .jsonl.gz of lines, as "
            "tests/fixtures/unipen_lines_sample.jsonl.gz)"
        ) from None
    train_index = np.flatnonzero(usable(train))
    test_index = np.flatnonzero(usable(test))
    test_index = np.sort(rng.choice(test_index, min(args.test_lines, len(test_index)), replace=False))
    replay = [(train.images[i], train.texts[i]) for i in train_index]
    description = (
        f"{len(test_index)} of {len(test)} base test lines (held-out writers, "
        f"training/data/text_lines.py split 'test', seed {args.seed})"
    )
    return replay, [test.images[i] for i in test_index], [test.texts[i] for i in test_index], description


# -- scoring -----------------------------------------------------------------------------------------


def cer_standard_error(truths: list[str], readings: list[str]) -> float:
    """The standard error of a CER, in points, with lines as the unit.

    CER is a ratio, edits over characters, summed over lines; a line's edits go together (a badly
    written line has several), so the errors are not independent characters. Its standard error is
    that of a ratio estimator over n lines: sqrt(n / (n - 1) * sum((e_i - CER * c_i)^2)) / sum(c_i)."""
    from recognizer.text_decode import edit_distance

    edits = np.array([edit_distance(t, r) for t, r in zip(truths, readings)], np.float64)
    chars = np.array([len(t) for t in truths], np.float64)
    n = len(edits)
    if n < 2 or chars.sum() == 0:
        return 0.0
    cer = edits.sum() / chars.sum()
    return 100 * math.sqrt(n / (n - 1) * float(((edits - cer * chars) ** 2).sum())) / float(chars.sum())


def read_lines(content: bytes, meta: dict, images: list[np.ndarray], readers: list[str]) -> list[str]:
    """What the int8 model ``content`` reads in each line image, through the serving code, each with
    its reader's alphabet."""
    from recognizer.text_decode import best_path
    from recognizer.text_reader import TextReader

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{MODEL}.tflite"
        path.write_bytes(content)
        by_name = {name: TextReader(path, meta, name) for name in set(readers)}
    return [
        best_path(by_name[r].logits(im), by_name[r].alphabet, by_name[r].allowed)[0]
        for im, r in zip(images, readers)
    ]


# -- training ----------------------------------------------------------------------------------------


def fine_tune(model, images: list[np.ndarray], texts: list[str], args: argparse.Namespace) -> None:
    """A few epochs of CTC on the lines given (feedback and replay): the last ``--train-layers`` layers
    only, BatchNorm frozen.

    BatchNorm keeps the statistics of the 90,000 training lines: a few hundred lines of feedback would
    shift what every line depends on. Training only the top layers keeps the shapes the convolutions
    learnt from them (on 180 slanted lines as feedback, training every layer cost 0.96 points of base
    test CER for 18 points on the held-out feedback; the last four, 0.19 points for 14). Each epoch
    stretches every line by a random 0.8-1.25 across, as training did (``train_lines.batches``)."""
    import keras

    from training.data.text_lines import LineSet
    from training.train_lines import batches, ctc_train_step

    trainable = [
        layer
        for layer in model.layers
        if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    chosen = trainable[-args.train_layers :] if args.train_layers else trainable
    for layer in model.layers:
        layer.trainable = layer in chosen
    step = ctc_train_step(model, keras.optimizers.Adam(args.lr))
    n = len(texts)
    lines = LineSet(list(images), list(texts), np.full(n, "line"), np.full(n, ""), np.full(n, "feedback"))
    rng = np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        losses = [
            float(step(x, y, label_length, steps))
            for x, y, label_length, steps, _ in batches(lines, np.arange(n), args.batch_pixels, rng)
        ]
        print(f"epoch {epoch + 1}/{args.epochs}: CTC loss {np.mean(losses):.3f}", flush=True)


# -- main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from export.float_model import load_weights, save_float_weights
    from export.lines import convert_int8
    from recognizer.text_decode import character_error_rate
    from training.line_model import line_cnn

    models = Path(args.models_dir)
    meta = json.loads((models / f"{MODEL}.json").read_text())
    old_content = (models / f"{MODEL}.tflite").read_bytes()
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()  # the same feedback and seed give the same model

    train, test, feedback_ids = feedback_lines(args.feedback, args.held_out_share)
    replay, base_images, base_texts, base_description = base_lines(args, meta)
    rng = np.random.default_rng(args.seed)
    n_replay = min(len(replay), int(math.ceil(args.replay * len(train["texts"]))))
    replayed = [replay[i] for i in rng.choice(len(replay), n_replay, replace=False)]
    print(
        f"{len(train['texts']) + len(test['texts'])} feedback lines from {args.feedback}: "
        f"{len(train['texts'])} to train on, {len(test['texts'])} held out; {n_replay} base lines "
        f"replayed; {base_description}",
        flush=True,
    )

    model = load_weights(
        line_cnn(len(meta["alphabet"]) + 1, meta["training"]["width"]), models / f"{MODEL}.weights.npz"
    )
    fine_tune(
        model,
        train["images"] + [im for im, _ in replayed],
        train["texts"] + [text for _, text in replayed],
        args,
    )
    calibration = [
        replay[i][0] for i in rng.choice(len(replay), min(CALIBRATION_LINES, len(replay)), replace=False)
    ] + train["images"]
    new_content = convert_int8(model, calibration)

    def score(content: bytes) -> tuple[dict, list[str]]:
        """CER (a share) on the base test sample and on the held-out feedback, and the base readings."""
        base_read = read_lines(content, meta, base_images, ["characters"] * len(base_images))
        feedback_read = read_lines(content, meta, test["images"], test["readers"])
        return {
            "base": character_error_rate(base_texts, base_read),
            "feedback": character_error_rate(test["texts"], feedback_read),
        }, base_read

    (old, old_base_read), (new, _) = score(old_content), score(new_content)
    tolerance = args.tolerance
    if tolerance is None:
        tolerance = cer_standard_error(base_texts, old_base_read)
    result = verdict(args, argv, old, new, tolerance, len(base_texts), len(test["texts"]), "CER")
    result.update(
        {
            "base_test": base_description,
            "n_base_test": len(base_texts),
            "feedback_source": str(args.feedback),
            "feedback_ids": feedback_ids,
            "replay_lines": n_replay,
            "previous_sha256": hashlib.sha256(old_content).hexdigest(),
        }
    )
    if result["promoted"]:
        promote_files(
            models, MODEL, meta, new_content, result, partial(save_float_weights, model, dtype=np.float16)
        )
    return result


if __name__ == "__main__":
    main()

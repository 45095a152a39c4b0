"""Convert the trained line model to the int8 TFLite file that ``TextReader`` serves.

    python -m export.lines [--run runs/lines] [--out models]

Full-integer quantization (int8 in and out) with a free line width, calibrated on training lines.
Float and int8 are scored on the same test writers' lines, int8 through the serving TextReader
code, and the export fails if int8's CER is more than ``--max-rise`` points above float's, or the
file is over ``--max-bytes``. Writes ``<out>/lines.tflite``, ``<out>/lines.json`` (alphabet,
input, CER by kind, data, commands, sha256, date) and ``<out>/lines.weights.npz`` (the float weights
as float16, which ``python -m training.retrain lines`` fine-tunes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m export.lines", description=__doc__.split("\n")[0])
    p.add_argument("--run", default="runs/lines", help="training output folder")
    p.add_argument("--out", default="models")
    p.add_argument("--max-rise", type=float, default=0.5, help="largest int8 CER rise over float, in points")
    p.add_argument("--max-bytes", type=int, default=1_500_000)
    p.add_argument("--calibration-lines", type=int, default=400)
    p.add_argument("--limit", type=int, help="score only this many test lines (a smoke test)")
    return p.parse_args(argv)


def convert_int8(model, calibration: list[np.ndarray]) -> bytes:
    """Full-integer quantization with the width left free (the interpreter is resized per line)."""
    import tensorflow as tf

    def representative():
        for line in calibration:
            yield [line.astype(np.float32)[None, :, :, None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def metadata_for(alphabet: str, step: int) -> dict:
    from recognizer.preprocess.text_line import LINE_HEIGHT

    return {
        "name": "lines",
        "alphabet": alphabet,
        "blank": len(alphabet),
        "step": step,
        "input": {
            "shape": [1, LINE_HEIGHT, -1, 1],
            "dtype": "int8",
            "pixels": "recognizer.preprocess.text_line.to_line_input: uint8 white ink on black, 0-255",
        },
    }


def read_all(logits_of, lines, index, alphabet: str) -> list[str]:
    from recognizer.text_decode import best_path

    return [best_path(logits_of(lines.images[i]), alphabet)[0] for i in index]


def scores(lines, index, readings: list[str]) -> dict:
    """CER (points) and exact share by kind/drawing, and overall."""
    from recognizer.text_decode import character_error_rate

    groups: dict[str, list[int]] = {"all": list(range(len(index)))}
    for k, i in enumerate(index):
        groups.setdefault(f"{lines.kinds[i]}/{lines.drawn[i]}", []).append(k)
    out = {}
    for name, members in sorted(groups.items()):
        truth = [lines.texts[index[k]] for k in members]
        guess = [readings[k] for k in members]
        out[name] = {
            "n": len(members),
            "cer": round(100 * character_error_rate(truth, guess), 2),
            "exact": round(100 * float(np.mean([t == g for t, g in zip(truth, guess)])), 2),
        }
    return out


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    from export.float_model import save_float_weights
    from recognizer.text_reader import TextReader
    from training.data.text_lines import LINE_ALPHABET, load_lines
    from training.line_model import STEP, line_cnn
    from training.train_lines import usable

    run = Path(args.run)
    report = json.loads((run / "report.json").read_text())
    model = line_cnn(len(LINE_ALPHABET) + 1, report["width"])  # float32, whatever training computed in
    model.load_weights(run / "model.keras")
    train, test = load_lines("train", **report["data"]), load_lines("test", **report["data"])
    index = np.flatnonzero(usable(test))[: args.limit]
    rng = np.random.default_rng(0)
    calibration = [train.images[i] for i in rng.choice(len(train), args.calibration_lines, replace=False)]
    content = convert_int8(model, calibration)
    if len(content) > args.max_bytes:
        raise SystemExit(f"lines.tflite is {len(content)} bytes (limit {args.max_bytes}); not exported")

    def float_logits(line: np.ndarray) -> np.ndarray:
        width = -(-line.shape[1] // STEP) * STEP
        x = np.zeros((1, line.shape[0], width, 1), np.float32)
        x[0, :, : line.shape[1], 0] = line
        return model(x, training=False).numpy()[0, 0, : -(-line.shape[1] // STEP)]

    metadata = metadata_for(LINE_ALPHABET, STEP)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.tflite"
        path.write_bytes(content)
        reader = TextReader(path, metadata, "characters")
        int8 = scores(test, index, read_all(reader.logits, test, index, LINE_ALPHABET))
    flt = scores(test, index, read_all(float_logits, test, index, LINE_ALPHABET))
    rise = int8["all"]["cer"] - flt["all"]["cer"]
    print(
        f"lines: float CER {flt['all']['cer']}%  int8 CER {int8['all']['cer']}%  rise {rise:+.2f} points  "
        f"({len(content) / 1024:.0f} KB)"
    )
    if rise > args.max_rise:
        raise SystemExit(f"int8 CER is {rise:.2f} points above float (limit {args.max_rise}); not exported")

    metadata.update(
        {
            "file": "lines.tflite",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": len(content),
            "parameters": int(model.count_params()),
            "test_set": f"{len(index)} lines by held-out writers (training/data/text_lines.py, split 'test')",
            "cer": {"float": flt, "int8": int8},
            "training": {
                "data": "UniPen words and text lines (unipen_words_dev), lines rebuilt from and digit "
                "strings composed of UniPen characters (unipen_dev); writers split as the character "
                "models split them",
                "train_lines": report["train_lines"],
                "best_epoch": report["best_epoch"],
                "width": report["width"],
                "data_args": report["data"],
                "command": report["command"],
                "tensorflow": tf.__version__,
            },
            "export_command": "python -m export.lines " + shlex.join(sys.argv[1:] if argv is None else argv),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "lines.tflite").write_bytes(content)
    (out / "lines.json").write_text(json.dumps(metadata, indent=2) + "\n")
    save_float_weights(model, out / "lines.weights.npz", np.float16)
    print(f"wrote {out / 'lines.tflite'}, lines.json and lines.weights.npz")
    return metadata


if __name__ == "__main__":
    main()

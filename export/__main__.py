"""Convert a trained Keras model to the int8 TFLite file the app serves.

    python -m export digits [--run runs/digits] [--out models]

Full-integer quantization (int8 in, int8 out) calibrated on training images,
after folding BatchNorm into the next layer (``export/fold.py``).
The float and int8 models are scored on the same test set, int8 through the
very ``Recognizer`` code the app uses, and the export fails if int8 is more
than ``--max-drop`` points worse. Writes ``<out>/<task>.tflite``,
``<task>.json`` (labels, input spec, accuracy, data, commands, sha256, date)
``<task>_confusion.png``, and ``<task>.weights.npz`` (the float weights,
which ``training.retrain`` fine-tunes; see ``export/float_model.py``).
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

from export.confusion import confusion_matrix, save_confusion_png
from export.float_model import save_float_weights
from export.fold import fold_batchnorm


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m export", description=__doc__.split("\n")[0])
    p.add_argument("task", choices=["digits", "letters", "characters"])
    p.add_argument("--run", help="training output folder (default runs/<task>)")
    p.add_argument("--out", default="models", help="where to write the model files")
    p.add_argument(
        "--max-drop", type=float, default=0.1, help="largest int8 accuracy loss allowed, in points"
    )
    p.add_argument("--calibration-images", type=int, default=1000)
    p.add_argument("--float16", action="store_true", help="also export float16 for comparison (not served)")
    p.add_argument("--extra", help="JSON file of extra metadata to merge in (e.g. retraining details)")
    return p.parse_args(argv)


def convert_int8(model, calibration: np.ndarray) -> bytes:
    """Full-integer quantization: int8 weights, activations, input and output."""
    import tensorflow as tf

    def representative():
        for image in calibration:
            yield [image.astype(np.float32)[None, :, :, None] / 255.0]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def convert_float16(model) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def score_tflite(content: bytes, metadata: dict, x: np.ndarray) -> np.ndarray:
    """Predicted class indices from a TFLite model, run through the serving ``Recognizer``."""
    from recognizer import Recognizer

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(content)
        rec = Recognizer(path, metadata)
        return np.concatenate([rec.probabilities(x[i : i + 512]).argmax(1) for i in range(0, len(x), 512)])


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from training.datasets import load_task, source_parts
    from training.train import accuracy_report

    run = Path(args.run or f"runs/{args.task}")
    report = json.loads((run / "report.json").read_text())
    targs = report["args"]
    data = load_task(
        args.task, targs["sources"], targs["data_dir"], targs["emnist_zip"], targs["limit"], targs["seed"]
    )
    model = keras.models.load_model(run / "model.keras")

    x_test = data.test.x
    float_pred = model.predict(
        x_test.astype(np.float32)[..., None] / 255.0, batch_size=1024, verbose=0
    ).argmax(1)
    rng = np.random.default_rng(0)
    calibration = data.train.x[
        rng.choice(len(data.train), min(args.calibration_images, len(data.train)), replace=False)
    ]
    content = convert_int8(fold_batchnorm(model), calibration)

    metadata = {
        "name": args.task,
        "labels": data.labels,
        "input": {
            "shape": [1, 28, 28, 1],
            "dtype": "int8",
            "pixels": "recognizer.preprocess.to_model_input: uint8 white ink on black, scaled to [0, 1]",
        },
    }
    int8_pred = score_tflite(content, metadata, x_test)
    float_acc = accuracy_report(data.labels, data.test.y, float_pred)
    int8_acc = accuracy_report(data.labels, data.test.y, int8_pred)
    drop = 100 * (float_acc["accuracy"] - int8_acc["accuracy"])
    print(
        f"{args.task}: float {float_acc['accuracy']:.4%}  int8 {int8_acc['accuracy']:.4%}  "
        f"drop {drop:+.3f} points  ({len(content) / 1024:.0f} KB)"
    )
    if drop > args.max_drop:
        raise SystemExit(f"int8 is {drop:.3f} points worse than float (limit {args.max_drop}); not exported")

    by_source = {}
    for name, part in source_parts(data).items():
        r = accuracy_report(data.labels, data.test.y[part], int8_pred[part])
        by_source[name] = {k: r[k] for k in ("n", "accuracy", "case_insensitive_accuracy")}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.task}.tflite").write_bytes(content)
    save_float_weights(model, out / f"{args.task}.weights.npz")
    confusion = confusion_matrix(data.test.y, int8_pred, len(data.labels))
    save_confusion_png(
        confusion,
        data.labels,
        out / f"{args.task}_confusion.png",
        title=f"{args.task}: int8 on {len(x_test)} test images",
    )
    metadata.update(
        {
            "file": f"{args.task}.tflite",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": len(content),
            "arch": report["arch"],
            "batchnorm_folded": True,
            "parameters": report["parameters"],
            "test_set": _describe_test(args.task, data.sources),
            "accuracy": {
                "float": {k: float_acc[k] for k in ("n", "accuracy", "case_insensitive_accuracy")},
                "int8": {k: int8_acc[k] for k in ("n", "accuracy", "case_insensitive_accuracy")},
                "int8_by_source": by_source,
                "int8_per_class": int8_acc["per_class"],
                "int8_top_confusions": int8_acc["confusions"],
                "validation_final": report["curves"].get("val_accuracy", [None])[-1],
            },
            "confusion_png": f"{args.task}_confusion.png",
            "training": {
                "data": report["data"],
                "command": report["command"],
                "args": report["args"],
                "epochs": report["epochs"],
                "seconds": report["train_seconds"],
                "tensorflow": tf.__version__,
            },
            "export_command": "python -m export " + shlex.join(sys.argv[1:] if argv is None else argv),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    )
    if args.float16:
        fp16 = convert_float16(model)
        fp16_acc = accuracy_report(data.labels, data.test.y, score_tflite(fp16, {**metadata}, x_test))
        (run / "model_fp16.tflite").write_bytes(fp16)
        metadata["accuracy"]["float16"] = {"accuracy": fp16_acc["accuracy"], "size_bytes": len(fp16)}
    if args.extra:
        metadata.update(json.loads(Path(args.extra).read_text()))
    (out / f"{args.task}.json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"wrote {out / args.task}.tflite, .json, _confusion.png")
    return metadata


def _describe_test(task: str, sources: dict) -> str:
    if task == "digits" and list(sources) == ["mnist"]:
        return f"official MNIST test set ({sources['mnist']['test']} images)"
    parts = [
        f"{name}: {c['test']} images"
        + (" by held-out writers" if c["writer_disjoint"] else " (official test split)")
        for name, c in sources.items()
        if c["test"]
    ]
    return "; ".join(parts)


if __name__ == "__main__":
    main()

"""Model size and accuracy: float Keras vs int8 TFLite as the export measured them, and int8 re-measured here.

The export step scored both models on the full test sets and wrote the
figures to models/<name>.json; this re-scores each shipped int8 model on the
samples in tests/fixtures, through the very code the app uses.
"""

from __future__ import annotations

import numpy as np

from recognizer import MODEL_NAMES, Recognizer
from recognizer.labels import BYCLASS, fold_case
from recognizer.model import MODELS_DIR
from tests.helpers import FIXTURES


def fixture_sample(model: Recognizer) -> tuple[str, np.ndarray, list[str]]:
    """(description, raw images, true labels) of the shipped sample this model can be scored on."""
    if model.labels == [str(d) for d in range(10)]:
        data = np.load(FIXTURES / "mnist_test_500.npz")
        return "tests/fixtures/mnist_test_500.npz", data["x"], [str(int(y)) for y in data["y"]]
    data = np.load(FIXTURES / "femnist_sample.npz")
    labels = [BYCLASS[int(y)] for y in data["y"]]
    keep = np.array([label in model.labels for label in labels])
    truth = [label for label, k in zip(labels, keep, strict=True) if k]
    return "tests/fixtures/femnist_sample.npz", data["x"][keep], truth


def model_row(name: str) -> dict:
    model = Recognizer.load(name)
    meta = model.metadata
    accuracy = meta.get("accuracy", {})
    source, x, truth = fixture_sample(model)
    predicted = [p.label for p in model.predict_batch(x)]
    right = [p == t for p, t in zip(predicted, truth, strict=True)]
    right_folded = [fold_case(p) == fold_case(t) for p, t in zip(predicted, truth, strict=True)]
    return {
        "name": name,
        "arch": meta.get("arch"),
        "parameters": meta.get("parameters"),
        "float_bytes": 4 * meta["parameters"] if meta.get("parameters") else None,
        "int8_bytes": model.model_path.stat().st_size,
        "test_set": meta.get("test_set"),
        "float": accuracy.get("float"),
        "int8": accuracy.get("int8"),
        "fixture": {
            "source": source,
            "n": len(truth),
            "accuracy": float(np.mean(right)),
            "case_insensitive_accuracy": float(np.mean(right_folded)),
        },
    }


def model_table() -> list[dict]:
    """One row per model whose files are in models/."""
    return [model_row(name) for name in MODEL_NAMES if (MODELS_DIR / f"{name}.tflite").exists()]

"""The original app's path, timed on the same inputs: naive 28x28 resize, then Keras ``model.predict``.

    python -m benchmarks.keras_baseline INPUTS_DIR REPS     # prints one JSON line

The original resized the drawing straight to 28x28 greyscale, scaled it to
[0, 1] (no cropping, no centring) and called ``model.predict`` on the seed
CNN. This process imports TensorFlow, so it runs apart from the serving
measurements; it also times the Recognizer here, beside Keras, to give the
speed-up within one process as well as across processes.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

KERAS_MODEL = Path(__file__).resolve().parent.parent / "models" / "digits.keras"


def naive_28(image: Image.Image) -> np.ndarray:
    """The original preprocessing: greyscale, straight to 28x28, [0, 1], inverted to white on black."""
    x = np.asarray(image.convert("L").resize((28, 28)), dtype=np.float32) / 255.0
    return (1.0 - x).reshape(1, 28, 28, 1)


def decode(value: dict | str | bytes) -> Image.Image:
    """The original app's image: a sketchpad value's composite, or the file at a path or in bytes, as PIL
    opens it."""
    if isinstance(value, dict):
        value = value["composite"]
        if isinstance(value, np.ndarray):
            return Image.fromarray(value)
    image = Image.open(io.BytesIO(value) if isinstance(value, bytes) else value)
    image.load()
    return image


def main(folder: Path, reps: int) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    import keras
    import tensorflow as tf

    imported = time.perf_counter()
    if KERAS_MODEL.exists():
        model, source = keras.models.load_model(KERAS_MODEL), str(KERAS_MODEL.name)
    else:
        from training.architectures import seed

        model, source = seed(10), "training.architectures.seed(10), untrained (weights do not change speed)"
    loaded = time.perf_counter()

    from benchmarks.inputs import read_benchmark_inputs
    from benchmarks.process import memory_mb
    from benchmarks.timing import end_to_end, serving_latency, staged_latency
    from recognizer import Recognizer

    def keras_predict(x: np.ndarray) -> np.ndarray:
        return model.predict(x, verbose=0)

    inputs = read_benchmark_inputs(folder)
    baseline = {}
    for name, value in inputs.items():
        baseline[name] = staged_latency([decode, naive_28, keras_predict], value, reps)
        x = naive_28(decode(value))
        baseline[name]["keras_call"] = end_to_end(lambda x=x: model(x, training=False), reps)
    memory = memory_mb()
    return {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "model": source,
        "import_s": imported - start,
        "load_model_s": loaded - imported,
        "memory": memory,
        "baseline": baseline,
        "recognizer_same_process": serving_latency(Recognizer.load("digits"), inputs, reps),
    }


if __name__ == "__main__":
    from benchmarks.process import report

    report(main(Path(sys.argv[1]), int(sys.argv[2])))

"""The serving footprint: import time and memory of a process that loads every model and serves predictions.

    python -m benchmarks.footprint INPUTS_DIR REPS     # prints one JSON line

TensorFlow must never be imported here: the app serves with LiteRT alone.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(folder: Path, reps: int) -> dict:
    start = time.perf_counter()
    from recognizer import MODEL_NAMES, Recognizer
    from recognizer.model import MODELS_DIR

    imported = time.perf_counter()
    recognizers = [Recognizer.load(n) for n in MODEL_NAMES if (MODELS_DIR / f"{n}.tflite").exists()]
    loaded = time.perf_counter()

    from benchmarks.inputs import read_benchmark_inputs
    from benchmarks.process import memory_mb

    after_load = memory_mb()
    inputs = read_benchmark_inputs(folder)
    for _ in range(reps):
        for rec in recognizers:
            for value in inputs.values():
                rec.predict(value)
    assert "tensorflow" not in sys.modules, "the serving process imported TensorFlow"
    return {
        "import_s": imported - start,
        "load_models_s": loaded - imported,
        "models": [r.name for r in recognizers],
        "interpreter": recognizers[0].interpreter_package,
        "predictions": reps * len(recognizers) * len(inputs),
        "after_load": after_load,
        "after_serving": memory_mb(),
        "tensorflow_imported": "tensorflow" in sys.modules,
    }


if __name__ == "__main__":
    from benchmarks.process import report

    report(main(Path(sys.argv[1]), int(sys.argv[2])))

"""Serving speed, measured in this process: latency by stage, batch throughput, threads vs one interpreter.

Nothing here imports TensorFlow, so that the Keras baseline process can
import it to measure the Recognizer beside Keras, and the main process can
measure it without.
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from recognizer import Recognizer
from recognizer.image_io import load_image
from recognizer.preprocess import to_model_input

STAGES = ("decode", "preprocess", "inference")


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and p99 of durations in seconds, in milliseconds."""
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000.0, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "n": len(seconds)}


def staged_latency(
    stages: Sequence[Callable[[Any], Any]],
    value: Any,
    reps: int,
    warmup: int = 5,
    names: Sequence[str] = STAGES,
) -> dict:
    """Time a pipeline of functions (each gets the previous one's result) stage by stage, under ``names``,
    and end to end ("total")."""
    times = np.zeros((reps, len(stages)))
    for rep in range(-warmup, reps):
        x = value
        for i, stage in enumerate(stages):
            start = time.perf_counter()
            x = stage(x)
            if rep >= 0:
                times[rep, i] = time.perf_counter() - start
    result = {name: summary_ms(times[:, i]) for i, name in enumerate(names[: len(stages)])}
    result["total"] = summary_ms(times.sum(axis=1))
    return result


def recognizer_stages(rec: Recognizer) -> list[Callable[[Any], Any]]:
    """Recognizer.predict cut at its seams: load_image, to_model_input, then the interpreter and top 5."""
    return [load_image, to_model_input, lambda x: rec.probabilities(x[None])[0].argsort()[::-1][:5]]


def end_to_end(call: Callable[[], Any], reps: int, warmup: int = 5) -> dict[str, float]:
    """Wall-clock percentiles of ``call()``, and its mean CPU time ("cpu_mean"), which a busy
    machine inflates far less than wall-clock time."""
    for _ in range(warmup):
        call()
    times = []
    cpu = time.process_time()
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {**summary_ms(times), "cpu_mean": 1000 * (time.process_time() - cpu) / reps}


def serving_latency(rec: Recognizer, inputs: dict[str, Any], reps: int) -> dict:
    """For each input: stage-by-stage latency, and Recognizer.predict timed as one call."""
    return {
        name: {**staged_latency(recognizer_stages(rec), value, reps),
               "predict": end_to_end(lambda value=value: rec.predict(value), reps)}
        for name, value in inputs.items()
    }


def batch_throughput(rec: Recognizer, images: np.ndarray, sizes: Sequence[int], total: int) -> dict:
    """Images/s of predict_batch (preprocessing included) and of the interpreter alone, by batch size.

    Each size reads about ``total`` images, cycling through ``images``.
    """
    model_inputs = np.stack([rec.preprocess(im) for im in images])
    out = {}
    for size in sizes:
        batches = [np.arange(k * size, (k + 1) * size) % len(images) for k in range(max(1, total // size))]
        row = {}
        for name, call in (("predict_batch_per_s", lambda idx: rec.predict_batch(images[idx])),
                           ("inference_only_per_s", lambda idx: rec.probabilities(model_inputs[idx]))):
            call(batches[0])  # the interpreter resizes its input once per batch size
            start = time.perf_counter()
            for idx in batches:
                call(idx)
            row[name] = len(batches) * size / (time.perf_counter() - start)
        out[str(size)] = row
    return out


class SharedInterpreter(Recognizer):
    """The alternative design: one interpreter for all threads, behind a lock."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._local = types.SimpleNamespace()  # shared by every thread, unlike threading.local
        self._lock = threading.Lock()
        self._interpreter(1)

    def probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        with self._lock:
            return super().probabilities(model_inputs)


def threads_vs_lock(rec: Recognizer, value: Any, thread_counts: Sequence[int], per_thread: int,
                    rounds: int = 3) -> dict:
    """Predictions/s with N threads: the Recognizer's per-thread interpreters vs SharedInterpreter.

    Measured end to end on ``value`` and on the interpreter alone (a preprocessed input). The two
    designs take turns, ``rounds`` times, and each keeps its best round, so that a burst of load
    from elsewhere on the machine does not decide the comparison.
    """
    shared = SharedInterpreter(rec.model_path, rec.metadata)
    x = rec.preprocess(value)[None]
    out = {}
    for n in thread_counts:
        row: dict[str, float] = {}
        for _ in range(rounds):
            for design, model in (("per_thread", rec), ("shared_lock", shared)):
                for work, call in (("predict", lambda m=model: m.predict(value)),
                                   ("inference", lambda m=model: m.probabilities(x))):
                    key = f"{design}_{work}_per_s"
                    row[key] = max(row.get(key, 0.0), _throughput(call, n, per_thread))
        out[str(n)] = row
    return out


def _throughput(call: Callable[[], Any], threads: int, per_thread: int) -> float:
    def work() -> None:
        for _ in range(per_thread):
            call()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: call(), range(threads)))  # warm up, and give each thread its interpreter
        start = time.perf_counter()
        for f in [pool.submit(work) for _ in range(threads)]:
            f.result()
        return threads * per_thread / (time.perf_counter() - start)

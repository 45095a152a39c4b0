"""Measure the recognizer and the app, side by side with the original Keras path, in one run.

    python -m benchmarks            # the full run, ~30 minutes: on an idle machine, for results.md
    python -m benchmarks --quick    # a few minutes, rough figures, while developing

The full run writes benchmarks/results.md (the tables; the README sums up a few figures) and
benchmarks/results.json; a quick run writes them to benchmarks/out/ (not
committed), so that rough figures never replace the real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import PIL

from benchmarks.accuracy import model_table
from benchmarks.inputs import read_benchmark_inputs, write_benchmark_inputs
from benchmarks.lines import QUICK_REPS as LINE_QUICK_REPS
from benchmarks.lines import REPS as LINE_REPS
from benchmarks.lines import benchmark as line_benchmark
from benchmarks.lines import targets as line_targets
from benchmarks.load_test import BASELINE, USERS, app_under_load, load_inputs
from benchmarks.process import ROOT, run_module
from benchmarks.report import render
from benchmarks.timing import batch_throughput, serving_latency, threads_vs_lock
from recognizer import Recognizer
from tests.helpers import load_mnist_sample

FULL = dict(latency=500, baseline=100, batch_images=2048, per_thread=300, footprint=50, load_seconds=60)
QUICK = dict(latency=100, baseline=10, batch_images=256, per_thread=20, footprint=5, load_seconds=5)
"""Repetitions: latency and baseline per input, images per batch size, predictions per thread (in each
of 3 rounds), predictions per model and input in the footprint process; and seconds of load per number
of users and kind of request."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few repetitions: under a minute, rough figures")
    p.add_argument("--skip-app", action="store_true", help="do not launch app.py for the load test")
    p.add_argument("--baseline", metavar="REF", default=BASELINE,
                   help=f"load-test the Gradio requests on the app at this commit too (default {BASELINE}, "
                   "the app before issue 29); 'none' to skip")
    p.add_argument("--out", type=Path, help="folder for results.md and .json (default: benchmarks/, or "
                   "benchmarks/out/ with --quick)")
    return p.parse_args(argv)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    from recognizer.interpreter import interpreter_class

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "interpreter": interpreter_class()[1],
        "load_start": os.getloadavg()[0],
    }


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def targets(r: dict) -> list[dict]:
    sketch = r["serving"]["sketch_800x800"]["predict"]["p50"]
    cpu = r["serving"]["sketch_800x800"]["predict"]["cpu_mean"]
    speedup, png = r["speedup"]["sketch_800x800"], r["speedup"]["png_800x800"]
    rss = r["footprint"]["after_serving"]["rss_mb"]
    out = [
        {"target": "predict p50 on an 800x800 sketch <= 2 ms end to end",
         "measured": f"{sketch:.2f} ms (CPU time: {cpu:.2f} ms)", "met": sketch <= 2.0},
        {"target": "sketchpad value: >= 20x faster than the Keras baseline, same run",
         "measured": f"{speedup['cross_process']:.0f}x (both in one process: {speedup['same_process']:.0f}x)",
         "met": speedup["cross_process"] >= 20},
        {"target": "800x800 canvas PNG, decode included: >= 5x faster than the Keras baseline, same run",
         "measured": f"{png['cross_process']:.1f}x (both in one process: {png['same_process']:.1f}x)",
         "met": png["cross_process"] >= 5},
        {"target": "serving process with all models loaded <= 250 MB RSS",
         "measured": f"{rss:.0f} MB (models: {', '.join(r['footprint']['models'])})", "met": rss <= 250},
    ]
    return out + line_targets(r.get("lines")) + load_targets(r.get("load"), r["machine"]["cores"])


def load_targets(load: dict | None, cores: int) -> list[dict]:
    """Issue 29's targets for the app under load: 32 users on Gradio's /predict, and 64 on the lean route."""
    if not load:
        return []
    runs = {run["kind"]: run for run in load["runs"] if run["app"] == "this tree"}
    out = []
    wanted = (("gradio_rest", 32, "Gradio `/predict` (REST)"), ("lean", 64, "the lean route"))
    for kind, users, title in wanted:
        level = next((lv for lv in runs.get(kind, {}).get("levels", []) if lv["users"] == users), None)
        if level is None:
            continue
        p95 = level["latency_ms"]["p95"] if level["latency_ms"] else float("inf")
        rss = level["app_rss_after_mb"] or float("inf")
        out.append({"target": f"{users} users on {title}, {level['offered_per_s']:.0f} requests/s offered, "
                              f"on {cores} cores: 0 errors, p95 <= 200 ms, app RSS <= 300 MB after",
                    "measured": f"{level['errors']} errors, p95 {p95:.0f} ms, {rss:.0f} MB",
                    "met": level["errors"] == 0 and p95 <= 200 and rss <= 300})
    return out


def threads_verdict(rows: dict) -> str:
    wins = sum(row["per_thread_predict_per_s"] >= row["shared_lock_predict_per_s"] for row in rows.values())
    best = "per-thread interpreters" if wins * 2 >= len(rows) else "one interpreter behind a lock"
    return f"Faster end to end: {best} (in {max(wins, len(rows) - wins)} of {len(rows)} thread counts)."


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    reps = QUICK if args.quick else FULL
    r: dict = {"command": "python -m benchmarks" + (" --quick" if args.quick else "") +
               (" --skip-app" if args.skip_app else "") +
               (f" --baseline {args.baseline}" if args.baseline != BASELINE else ""),
               "quick": args.quick, "reps": reps, "machine": machine(), "commit": commit(),
               "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="hwr-bench-") as tmp:
        folder = Path(tmp)
        write_benchmark_inputs(folder)
        inputs = read_benchmark_inputs(folder)
        digits = Recognizer.load("digits")

        step("serving latency (this process, no TensorFlow)")
        r["serving"] = serving_latency(digits, inputs, reps["latency"])
        step("batch throughput")
        mnist = load_mnist_sample()[0]
        r["batch"] = batch_throughput(digits, mnist, (1, 8, 32, 128), reps["batch_images"])
        step("threads vs one interpreter behind a lock")
        r["threads"] = threads_vs_lock(digits, inputs["sketch_800x800"], (1, 2, 4), reps["per_thread"])
        r["threads_verdict"] = threads_verdict(r["threads"])
        step("serving footprint (a fresh process)")
        r["footprint"] = run_module("footprint", str(folder), str(reps["footprint"]))
        step("Keras baseline (a process with TensorFlow)")
        r["baseline"] = run_module("keras_baseline", str(folder), str(reps["baseline"]))
        r["speedup"] = {
            name: {"cross_process": r["baseline"]["baseline"][name]["total"]["p50"] / s["predict"]["p50"],
                   "same_process": r["baseline"]["baseline"][name]["total"]["p50"]
                   / r["baseline"]["recognizer_same_process"][name]["predict"]["p50"]}
            for name, s in r["serving"].items()
        }
        step("model sizes and accuracy")
        r["models"] = model_table()
        if (ROOT / "models" / "lines.tflite").exists():
            step("reading a 10-character line, beside the column cut")
            r["lines"] = line_benchmark(LINE_QUICK_REPS if args.quick else LINE_REPS)
        if not args.skip_app:
            step(f"app under load: {', '.join(map(str, USERS))} users, {reps['load_seconds']} s each")
            baseline = None if args.baseline.lower() == "none" else args.baseline
            r["load"] = app_under_load(USERS, reps["load_seconds"], load_inputs(folder), baseline=baseline)
    r["machine"]["load_end"] = os.getloadavg()[0]
    r["targets"] = targets(r)
    out = args.out or ROOT / "benchmarks" / ("out" if args.quick else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(r, indent=2) + "\n")
    (out / "results.md").write_text(render(r))
    step(f"wrote {out / 'results.md'} and results.json")
    return r


if __name__ == "__main__":
    main()

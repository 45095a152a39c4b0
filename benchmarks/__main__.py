"""Measure the recognizer and the app, side by side with the original Keras path, in one run.

    python -m benchmarks            # the full run, ~10 minutes: on an idle machine, for the README
    python -m benchmarks --quick    # about a minute, rough figures, while developing

The full run writes benchmarks/results.md (the table the README quotes) and
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
from benchmarks.inputs import SKETCH_PNG, read_benchmark_inputs, write_benchmark_inputs
from benchmarks.process import ROOT, run_module
from benchmarks.report import render
from benchmarks.timing import batch_throughput, serving_latency, threads_vs_lock
from recognizer import Recognizer
from tests.helpers import load_mnist_sample

FULL = dict(latency=500, baseline=100, batch_images=2048, per_thread=300, footprint=50, requests=320)
QUICK = dict(latency=100, baseline=10, batch_images=256, per_thread=20, footprint=5, requests=16)
"""Repetitions: latency and baseline per input, images per batch size, predictions per thread (in each
of 3 rounds), predictions per model and input in the footprint process, and app requests per level of
users and kind of client."""
USERS = (1, 8, 32)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="few repetitions: under a minute, rough figures")
    p.add_argument("--skip-app", action="store_true", help="do not launch app.py for the load test")
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
    speedup = r["speedup"]["sketch_800x800"]["cross_process"]
    rss = r["footprint"]["after_serving"]["rss_mb"]
    rss_text = f"{rss:.0f} MB (models: {', '.join(r['footprint']['models'])})"
    if r.get("load"):
        rss_text += f"; app.py with Gradio: {r['load']['app_rss_mb']:.0f} MB after the load test"
    out = [
        {"target": "predict p50 on an 800x800 sketch <= 2 ms end to end",
         "measured": f"{sketch:.2f} ms (CPU time: {cpu:.2f} ms)", "met": sketch <= 2.0},
        {"target": ">= 20x faster than the Keras baseline, same run", "measured": f"{speedup:.0f}x",
         "met": speedup >= 20},
        {"target": "serving process with all models loaded <= 250 MB RSS",
         "measured": rss_text, "met": rss <= 250},
    ]
    if r.get("load"):
        top = max(r["load"]["clients"]["gradio_client"], key=lambda lv: lv["users"])
        p95 = top["latency_ms"]["p95"] if top["latency_ms"] else float("inf")
        out.append({"target": f"{top['users']} concurrent gradio_client users: 0 errors, p95 <= 150 ms "
                              f"(on {r['machine']['cores']} cores)",
                    "measured": f"{top['errors']} errors, p95 {p95:.0f} ms",
                    "met": top["errors"] == 0 and p95 <= 150})
    return out


def threads_verdict(rows: dict) -> str:
    wins = sum(row["per_thread_predict_per_s"] >= row["shared_lock_predict_per_s"] for row in rows.values())
    best = "per-thread interpreters" if wins * 2 >= len(rows) else "one interpreter behind a lock"
    return f"Faster end to end: {best} (in {max(wins, len(rows) - wins)} of {len(rows)} thread counts)."


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    reps = QUICK if args.quick else FULL
    r: dict = {"command": "python -m benchmarks" + (" --quick" if args.quick else "") +
               (" --skip-app" if args.skip_app else ""),
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
        if not args.skip_app:
            step(f"app under load: {', '.join(map(str, USERS))} users")
            from benchmarks.load_test import app_under_load

            r["load"] = app_under_load(USERS, reps["requests"], folder / SKETCH_PNG)
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

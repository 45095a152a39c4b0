"""Plumbing for the measurements that need a process of their own (a clean import, TensorFlow loaded).

Each such module runs as ``python -m benchmarks.<module> ...`` and prints its
result as the last line of its output, in JSON.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def memory_mb() -> dict[str, float]:
    """This process's resident memory now, and its peak so far, in MB (MiB)."""
    import psutil

    return {
        "rss_mb": psutil.Process().memory_info().rss / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def report(result: dict[str, Any]) -> None:
    """Print ``result`` as the JSON line that :func:`run_module` reads."""
    print(json.dumps(result), flush=True)


def run_module(module: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> args`` from the repository root; return the JSON it printed."""
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])

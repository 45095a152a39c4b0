"""How long a feedback submission takes, whatever Google Sheets does.

    python -m benchmarks.feedback_submit [--clients 8] [--per-client 50]

Real 800x800 sketchpad drawings (UniPen trajectories) and the committed digits
model; ``FeedbackService.submit`` from several client threads at once, with Sheets
(a) not configured, (b) hanging on every request, (c) failing half its requests.
The sync worker runs against the fake Sheets of the tests, over loopback HTTP.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from recognizer import Recognizer
from recognizer.feedback import FeedbackService, FeedbackStore
from recognizer.feedback.sheets import SheetSync
from recognizer.image_io import load_image
from training.data.unipen import draw_strokes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_sheets import FakeSheets, Fault  # noqa: E402
from helpers import load_unipen_sample, sketchpad_value  # noqa: E402


def measure(service: FeedbackService, model: Recognizer, drawings: list, clients: int, per_client: int
            ) -> list[float]:
    """Seconds each submission took, from ``clients`` threads submitting ``per_client`` each."""
    predictions = model.predict_batch(drawings)
    latencies: list[float] = []

    def client(k: int) -> None:
        for i in range(per_client):
            j = (k * per_client + i) % len(drawings)
            start = time.perf_counter()
            service.submit(model.name, model.sha256, model.labels, predictions[j], True, None, drawings[j])
            latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return latencies


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.feedback_submit",
                                description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--per-client", type=int, default=50)
    args = p.parse_args(argv)

    model = Recognizer.load("digits")
    drawings = [load_image(sketchpad_value(draw_strokes(s["strokes"], s["y_up"])))
                for s in load_unipen_sample() if s["label"].isdigit()]
    release = threading.Event()
    rng = np.random.default_rng(0)
    scenarios = {
        "Sheets not configured": None,
        "Sheets hanging on every request": lambda request: release.wait() and None,
        "Sheets failing half its requests": lambda r: Fault("status", 503) if rng.random() < 0.5 else None,
    }
    print(f"{args.clients} clients x {args.per_client} submissions, 800x800 RGBA drawings")
    print(f"{'':36}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    for name, policy in scenarios.items():
        fake = FakeSheets().start()
        fake.add_spreadsheet("Handwriting-recognition")
        with tempfile.TemporaryDirectory() as tmp:
            store = FeedbackStore(tmp)
            sync = None
            if policy is not None:
                fake.policy = policy
                sync = SheetSync(store, fake.client(), min_interval=0.0, timeout=60, backoff_base=0.05)
                sync.start()
            service = FeedbackService(store, sync)
            ms = 1000 * np.array(measure(service, model, drawings, args.clients, args.per_client))
            print(f"{name:36}" + "".join(f"{np.percentile(ms, q):8.1f}" for q in (50, 95, 99, 100)))
            release.set()
            service.close(timeout=5)
            release.clear()
        fake.stop()


if __name__ == "__main__":
    main()

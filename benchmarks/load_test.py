"""The app under load: N concurrent users, each sending a drawing to /predict as fast as answers come.

The app runs as ``python app.py`` (through tests/app_server.py, as in the
tests), so the figures include Gradio's upload, queue and HTTP overhead. Two
kinds of user are measured: gradio_client (what a Python caller sees; it
polls for results every 50 ms, which sets a floor under its latency) and plain
HTTP through Gradio's REST API (upload, call, read the event stream), which
shows the server's own latency. The app's CPU time per request is measured
too: unlike latency, it hardly depends on what else the machine is doing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil
import requests
from gradio_client import Client, handle_file

from benchmarks.timing import summary_ms
from tests.app_server import running_app

User = Callable[[], object]


def gradio_client_user(url: str, upload: Path) -> User:
    client = Client(url, verbose=False)
    return lambda: client.predict(handle_file(str(upload)), "digits", api_name="/predict")


def http_user(url: str, upload: Path) -> User:
    """Gradio's REST API, as curl would call it: upload the file, start the call, read its event stream."""
    session, data = requests.Session(), upload.read_bytes()

    def predict() -> str:
        api = f"{url}/gradio_api"
        path = session.post(f"{api}/upload", files={"files": (upload.name, data)}).json()[0]
        file = {"path": path, "meta": {"_type": "gradio.FileData"}}
        event = session.post(f"{api}/call/predict", json={"data": [file, "digits"]}).json()["event_id"]
        stream = session.get(f"{api}/call/predict/{event}").text
        if "event: complete" not in stream:
            raise RuntimeError(stream.strip()[-200:])
        return stream

    return predict


CLIENTS = {"gradio_client": gradio_client_user, "http": http_user}


def app_process() -> psutil.Process | None:
    """The ``python app.py`` that running_app started, among this process's children."""
    for child in psutil.Process().children(recursive=True):
        try:
            if "app.py" in child.cmdline():
                return child
        except psutil.Error:
            continue
    return None


def cpu_seconds(process: psutil.Process | None) -> float:
    if process is None:
        return float("nan")
    times = process.cpu_times()
    return times.user + times.system


def one_level(users: list[User], requests_total: int, app: psutil.Process | None) -> dict:
    """``requests_total`` predictions shared among the users, each in its own thread, back to back."""
    per_user = max(1, requests_total // len(users))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(user: User) -> None:
        for _ in range(per_user):
            start = time.perf_counter()
            try:
                user()
            except Exception as e:  # noqa: BLE001 - every failure counts as an error, whatever it is
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    for user in users:  # warm up: one request each, not timed
        user()
    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    cpu, start = cpu_seconds(app), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - start, cpu_seconds(app) - cpu
    return {
        "users": len(users),
        "requests": len(users) * per_user,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "throughput_per_s": len(latencies) / wall,
        "latency_ms": summary_ms(latencies) if latencies else None,
        "app_cpu_ms_per_request": 1000 * cpu / (len(users) * per_user),
    }


def app_under_load(levels: Sequence[int], requests_total: int, upload: Path) -> dict:
    """Launch the app once; run each kind of client at each level of concurrency; the app's memory after."""
    with running_app() as url:
        app = app_process()
        rss_start = app.memory_info().rss / 2**20 if app else None
        results = {
            kind: [one_level([make(url, upload) for _ in range(n)], requests_total, app) for n in levels]
            for kind, make in CLIENTS.items()
        }
        rss = app.memory_info().rss / 2**20 if app else None
    return {"upload": upload.name, "clients": results, "app_rss_start_mb": rss_start, "app_rss_mb": rss}

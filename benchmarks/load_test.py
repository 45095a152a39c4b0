"""The app under a crowd: N users, each sending a drawing every 2 s on average, at random moments.

    python -m benchmarks.load_test                      # 8, 32 and 64 users, 60 s each, every kind
    python -m benchmarks.load_test --seconds 10 --users 8 32 --kinds lean     # a quick look

The load is open loop, as people make it: each user's requests fall due at
random (Poisson arrivals, one every MEAN_GAP_S on average), whether or not the
server keeps up. A user sends them in turn (the page reads one stroke at a
time), and a request's latency counts from when it fell due, so time spent
waiting behind a slow answer counts too.

Five kinds of request, each against a fresh ``python app.py`` (as the tests
start it, tests/app_server.py), with an 800x800 canvas PNG of a real pen digit, or
for ``/read`` a 1200x400 canvas PNG of a real 10-character line (benchmarks.lines):

- ``gradio_rest``: Gradio's REST API as curl calls it (upload, call, event stream);
- ``lean``: the lean route, ``POST /api/v1/predict`` with the PNG as the body (api.py);
- ``gradio_read`` and ``lean_read``: the same two for ``/read``, a whole line read by the
  ``characters`` reader;
- ``sketch``: what the page sends after a stroke on the 1200x400 sketchpad: its three PNGs
  (``accept_blobs``), then the reading event, whose answer comes on the session's event stream.

The app's CPU time per request, and its memory (RSS) before and after, are
measured too: unlike latency, CPU time hardly depends on what else the machine
is doing. The load generator runs on the same machine, and its own CPU time is
reported beside the app's. ``--baseline REF`` runs the Gradio kinds against the
app at a git commit as well (its app.py, recognizer and models), in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import psutil
import requests

from benchmarks.timing import summary_ms
from tests.app_server import REPO, running_app

User = Callable[[], object]
MakeUser = Callable[[str, dict], User]

USERS = (8, 32, 64)
MEAN_GAP_S = 2.0
"""Each user sends one request every this many seconds on average."""
TIMEOUT_S = 30.0
"""A request with no answer after this long is an error."""
BASELINE = "51e42cf"
"""The commit before issue 29 (serving a crowd): the app the issue measured."""
KEEP_ALIVE_S = 4.0
"""A user's connection is opened anew after this long idle: uvicorn closes one idle for 5 s, and a request
sent just as it does fails with "connection reset" (a browser would send it again; requests does not)."""


class Connection:
    """A user's HTTP connection, kept alive between requests as a browser keeps it, but not past
    uvicorn's keep-alive timeout (KEEP_ALIVE_S)."""

    def __init__(self) -> None:
        self.session, self.used = requests.Session(), time.monotonic()

    def __call__(self) -> requests.Session:
        if time.monotonic() - self.used > KEEP_ALIVE_S:
            self.session.close()
            self.session = requests.Session()
        self.used = time.monotonic()
        return self.session


def gradio_rest_user(
    url: str, inputs: dict, api_name: str = "predict", picture: str = "png", model: str = "digits"
) -> User:
    """Gradio's REST API, as curl would call it: upload the file, start the call, read its event stream."""
    connection, data = Connection(), inputs[picture]

    def call_api() -> str:
        api, session = f"{url}/gradio_api", connection()
        upload = session.post(f"{api}/upload", files={"files": ("drawing.png", data)}, timeout=TIMEOUT_S)
        file = {"path": upload.json()[0], "meta": {"_type": "gradio.FileData"}}
        call = session.post(f"{api}/call/{api_name}", json={"data": [file, model]}, timeout=TIMEOUT_S)
        stream = session.get(f"{api}/call/{api_name}/{call.json()['event_id']}", timeout=TIMEOUT_S).text
        if "event: complete" not in stream:
            raise RuntimeError(stream.strip()[-200:])
        return stream

    return call_api


def lean_user(
    url: str, inputs: dict, route: str = "predict", picture: str = "png", model: str = "digits"
) -> User:
    """The lean route: the PNG as the body, the JSON answer back."""
    connection, data = Connection(), inputs[picture]
    address = f"{url}/api/v1/{route}?model={model}"

    def call_route() -> dict:
        headers = {"Content-Type": "image/png"}
        response = connection().post(address, data=data, headers=headers, timeout=TIMEOUT_S)
        response.raise_for_status()
        return response.json()

    return call_route


def sketch_user(url: str, inputs: dict) -> User:
    """A browser tab drawing on the sketchpad: after each stroke, the page uploads the canvas's three PNGs
    to the sketchpad (``accept_blobs``, one after the other here; the page sends them at once), then
    presses the hidden live-read button, whose answer comes on the session's event stream."""
    connection, session_hash = Connection(), uuid.uuid4().hex[:11]
    api = f"{url}/gradio_api"
    ids = page_ids(url)
    blobs = [("background", None), ("composite", None), ("layer", 0)]

    def stroke() -> dict:
        blob_id, session = uuid.uuid4().hex[:10], connection()
        for kind, index in blobs:
            form = {"id": blob_id, "type": kind, "index": "null" if index is None else str(index),
                    "component_id": str(ids["sketchpad"]), "fn_name": "accept_blobs",
                    "session_hash": session_hash}
            file = {"file": (f"{kind}.png", inputs["stroke"][kind], "image/png")}
            sent = session.post(f"{api}/component_server/", data=form, files=file, timeout=TIMEOUT_S)
            sent.raise_for_status()
        drawing = {"id": blob_id, "background": None, "layers": [], "composite": None}
        join = {"data": [drawing, "digits"], "event_data": None, "fn_index": ids["fn_index"],
                "trigger_id": ids["live-read"], "session_hash": session_hash}
        joined = session.post(f"{api}/queue/join", json=join, timeout=TIMEOUT_S)
        joined.raise_for_status()
        return completed(session, api, session_hash, joined.json()["event_id"])

    return stroke


def page_ids(url: str) -> dict[str, int]:
    """The sketchpad's and the live-read button's component ids, and the index of the button's event."""
    config = requests.get(f"{url}/config", timeout=TIMEOUT_S).json()
    ids = {c["props"]["elem_id"]: c["id"] for c in config["components"]
           if c.get("props", {}).get("elem_id") in ("sketchpad", "live-read")}
    read = [ids["live-read"], "click"]
    ids["fn_index"] = next(d["id"] for d in config["dependencies"] if read in d["targets"])
    return ids


def completed(session: requests.Session, api: str, session_hash: str, event_id: str) -> dict:
    """The event's output, read from the session's event stream (which Gradio closes once it is done)."""
    with session.get(f"{api}/queue/data", params={"session_hash": session_hash}, stream=True,
                     timeout=TIMEOUT_S) as stream:
        for line in stream.iter_lines():
            if not line.startswith(b"data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                if not message.get("success"):
                    raise RuntimeError(str(message.get("output"))[:200])
                return message["output"]
    raise RuntimeError("the event stream closed before the event completed")


KINDS: dict[str, MakeUser] = {
    "gradio_rest": gradio_rest_user,
    "lean": lean_user,
    "gradio_read": partial(gradio_rest_user, api_name="read", picture="line_png", model="characters"),
    "lean_read": partial(lean_user, route="read", picture="line_png", model="characters"),
    "sketch": sketch_user,
}
GRADIO_KINDS = ("gradio_rest", "sketch")
"""The kinds that the app before issue 29 (``--baseline``) serves too."""
"""The kinds that the app before issue 29 also serves."""


def app_process() -> psutil.Process | None:
    """The newest ``app.py`` process that running_app started, among this process's children."""
    found = None
    for child in psutil.Process().children(recursive=True):
        try:
            if any(arg.endswith("app.py") for arg in child.cmdline()):
                found = child
        except psutil.Error:
            continue
    return found


def cpu_seconds(process: psutil.Process | None) -> float:
    if process is None:
        return float("nan")
    times = process.cpu_times()
    return times.user + times.system


def rss_mb(process: psutil.Process | None) -> float | None:
    return process.memory_info().rss / 2**20 if process else None


def idle_cpu_share(app: psutil.Process | None, seconds: float = 3.0) -> float:
    """The share of a core the app uses with nothing to do (Gradio's queue looks for work every 1 ms):
    part of every level's CPU time per request, the more so the fewer the requests."""
    cpu = cpu_seconds(app)
    time.sleep(seconds)
    return (cpu_seconds(app) - cpu) / seconds


def open_loop(users: list[User], seconds: float, app: psutil.Process | None, seed: int = 0) -> dict:
    """Every user sends requests as they fall due (Poisson, one per MEAN_GAP_S on average) for ``seconds``;
    latency counts from when each fell due, so a user held up by a slow answer adds the wait to the next."""
    rng = np.random.default_rng(seed)
    schedules = []
    for _ in users:
        due = np.cumsum(rng.exponential(MEAN_GAP_S, int(3 * seconds / MEAN_GAP_S) + 10))
        schedules.append(due[due < seconds])
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(user: User, due_times: np.ndarray, start: float) -> None:
        for due in due_times:
            delay = start + due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                user()
            except Exception as e:  # noqa: BLE001 - every failure counts as an error, whatever it is
                with lock:
                    errors.append(f"{type(e).__name__}: {e}"[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - start - due)

    for user in users:  # warm up: one request each, not timed (the first opens connections)
        user()
    cpu, own_cpu, start = cpu_seconds(app), time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=run, args=(u, s, start)) for u, s in zip(users, schedules)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    cpu, own_cpu = cpu_seconds(app) - cpu, time.process_time() - own_cpu
    sent = int(sum(len(s) for s in schedules))
    return {
        "users": len(users),
        "offered_per_s": len(users) / MEAN_GAP_S,
        "seconds": wall,
        "requests": sent,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "throughput_per_s": len(latencies) / wall,
        "latency_ms": summary_ms(latencies) if latencies else None,
        "app_cpu_ms_per_request": 1000 * cpu / max(sent, 1),
        "client_cpu_ms_per_request": 1000 * own_cpu / max(sent, 1),
        "app_rss_after_mb": rss_mb(app),
    }


@contextmanager
def app_at(ref: str | None) -> Iterator[tuple[str, dict[str, str]]]:
    """The script and environment that start the app: this tree's app.py, or the one at git commit ``ref``
    (with its own recognizer and models), extracted into a temporary folder."""
    if ref is None:
        yield "app.py", {}
        return
    with tempfile.TemporaryDirectory(prefix="hwr-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", ref, "app.py", "recognizer", "models", "docs/examples"],
                                 cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield str(Path(tmp) / "app.py"), {"PYTHONPATH": tmp}


def app_under_load(levels: Sequence[int], seconds: float, inputs: dict, kinds: Sequence[str] = tuple(KINDS),
                   baseline: str | None = None) -> dict:
    """For each kind of request (and each Gradio kind on the ``baseline`` commit's app too), a fresh app
    under each number of users in turn: its latency, errors, CPU per request and memory."""
    runs = [(kind, None) for kind in kinds]
    if baseline:
        runs += [(kind, baseline) for kind in kinds if kind in GRADIO_KINDS]
    results = []
    for kind, ref in runs:
        with app_at(ref) as (script, env), running_app(env=env, script=script) as url:
            app = app_process()
            make = KINDS[kind]
            KINDS[kind](url, inputs)()  # one request before the first figure, as the page's first load would
            row = {"kind": kind, "app": ref or "this tree", "app_rss_start_mb": rss_mb(app),
                   "app_idle_cpu_share": idle_cpu_share(app), "levels": []}
            for n in levels:
                row["levels"].append(open_loop([make(url, inputs) for _ in range(n)], seconds, app, seed=n))
            results.append(row)
    return {"mean_gap_s": MEAN_GAP_S, "seconds_per_level": seconds, "runs": results}


def load_inputs(folder: Path) -> dict:
    """The canvas PNG and a stroke's three PNGs, as benchmarks.inputs writes them, and the line's
    canvas PNG of benchmarks.lines."""
    from benchmarks.inputs import SKETCH_PNG, STROKE_PNGS
    from benchmarks.lines import line_inputs

    return {"png": (folder / SKETCH_PNG).read_bytes(),
            "line_png": line_inputs()["canvas_png_1200x400"],
            "stroke": {name: (folder / file).read_bytes() for name, file in STROKE_PNGS.items()}}


def main(argv: list[str] | None = None) -> dict:
    from benchmarks.inputs import write_benchmark_inputs
    from benchmarks.report import load_lines

    p = argparse.ArgumentParser(prog="python -m benchmarks.load_test", description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, nargs="+", default=list(USERS))
    p.add_argument("--seconds", type=float, default=60.0, help="per number of users (default 60)")
    p.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    p.add_argument("--baseline", metavar="REF", help=f"also run the Gradio kinds on the app at this commit "
                   f"(the app before issue 29: {BASELINE})")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "load.json")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hwr-load-") as tmp:
        write_benchmark_inputs(Path(tmp))
        result = app_under_load(args.users, args.seconds, load_inputs(Path(tmp)), args.kinds, args.baseline)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(load_lines(result)))
    print(f"(written to {args.out})", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()

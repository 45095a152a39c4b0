"""Run the real app (``python app.py``) in a subprocess, for tests and benchmarks that talk to it over HTTP.

    from app_server import running_app            # from tests/ (pytest puts tests/ on sys.path)
    with running_app() as base_url:                # e.g. "http://127.0.0.1:41234"
        Client(base_url).predict(handle_file("7.png"), "digits", api_name="/predict")

It picks a free port, keeps feedback in a temporary folder (unless ``env`` sets
HWR_FEEDBACK_DIR), never syncs to Google Sheets (unless ``env`` sets the
credentials), waits until the app answers, and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0
"""Seconds to wait for the app to answer: importing Gradio and loading models is slow on a busy machine."""


def free_port() -> int:
    """A TCP port that is free now (another process could take it before the app does, but rarely will)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with code {process.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/gradio_api/info", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"app.py did not answer within {timeout:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_app(
    env: Mapping[str, str] | None = None, timeout: float = START_TIMEOUT, script: str | Path = "app.py"
) -> Iterator[str]:
    """Start ``python app.py`` on a free port and yield its base URL; stop it on exit.

    ``env`` adds to (or overrides) the environment. The app's output goes to a
    log file whose tail is shown if it fails to start. ``script`` runs another
    copy of the app instead (an older one, to compare), from the repository root.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hwr-app-") as tmp:
        environ = {k: v for k, v in os.environ.items() if k != "GOOGLE_SERVICE_ACCOUNT_JSON"}
        environ.update(
            PORT=str(port),
            HWR_FEEDBACK_DIR=str(Path(tmp) / "feedback"),
            GRADIO_ANALYTICS_ENABLED="False",
            PYTHONUNBUFFERED="1",
        )
        environ.update(env or {})
        log_path = Path(tmp) / "app.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(script)], cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, process, log_path, timeout)
            yield url
        finally:
            _stop(process)

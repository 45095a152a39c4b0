"""Shared fixtures: the real app, launched once per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app_server import REPO, running_app


@pytest.fixture(scope="module")
def feedback_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the app launched by ``app_url`` stores feedback."""
    return tmp_path_factory.mktemp("feedback")


@pytest.fixture(scope="module")
def app_url(feedback_dir: Path) -> Iterator[str]:
    """Base URL of ``python app.py`` running on a free port; skips when no model has been exported yet."""
    if not (REPO / "models" / "digits.tflite").exists():
        pytest.skip("models/digits.tflite is not there yet: export the digits model first")
    with running_app(env={"HWR_FEEDBACK_DIR": str(feedback_dir)}) as url:
        yield url

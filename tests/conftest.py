"""Shared fixtures: the real app, launched once per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from app_server import REPO, running_app

# Property tests try new random examples on every run, except where $CI is set (.ci/run sets it):
# there they replay the same examples, so that whether a change lands does not hang on a draw.
# What a random run finds is kept in .hypothesis/ and tried first until it passes.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("repeatable")


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

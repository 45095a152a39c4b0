"""Hostile inputs (tests/corpus/make_corpus.py) give a prediction or a clear NoInkError / InvalidImageError.

Each case goes to ``Recognizer.predict``, and each file case also through the
app's ``/predict`` API. Nothing may raise anything else or hang; where the
right answer is known (an EXIF-rotated 7, a palette 4, a 16-bit 5...), the
model must read it; and a subprocess checks that the whole corpus leaves
memory bounded, decompression bombs included.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from recognizer import InvalidImageError, NoInkError, Prediction, Recognizer
from tests.corpus.make_corpus import (
    ANY,
    INVALID,
    NO_INK,
    READ,
    Case,
    all_cases,
    file_cases,
    scan,
    write_files,
)

CASES = all_cases()
FILE_CASES = [c for c in CASES if c.is_file]
TIMEOUT_S = 30.0
"""Per case; every case takes well under a second, so this only catches a hang."""
MAX_RSS_GROWTH_MB = 250
"""Peak memory the whole file corpus may add to a serving process: about 110 MB measured (mostly the
36-megapixel PNG); decoding the 900-megapixel bomb would take 900 MB."""
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # bad_exif_2.jpg, on purpose


@pytest.fixture(scope="module")
def digits() -> Recognizer:
    return Recognizer.load("digits")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def materialise(case: Case, folder: Path) -> Any:
    """The value to send: a file's path, or the in-memory value itself."""
    value = case.build(folder)
    if not case.is_file:
        return value
    path = folder / case.name
    path.write_bytes(value)
    return str(path)


def within_timeout(call: Callable[[], Any], what: str) -> Any:
    """``call()``'s result, or the exception it raised; fails the test if it runs past TIMEOUT_S."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as e:  # noqa: BLE001 - handed to the caller, which judges it
            box["result"] = e

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    if worker.is_alive():
        pytest.fail(f"{what} did not return within {TIMEOUT_S:.0f} s")
    return box["result"]


def assert_clear_message(message: str) -> None:
    """A sentence for a person: not empty, not a traceback or an errno, not a wall of text."""
    assert message and message[0].isupper() and len(message) < 200, message
    for internal in ("Traceback", "Errno", "Error:", " object at 0x", "<class", "\\x"):
        assert internal not in message, message


def check_outcome(case: Case, outcome: Any) -> None:
    expected = {READ: (Prediction,), NO_INK: (NoInkError,), INVALID: (InvalidImageError,),
                ANY: (Prediction, NoInkError, InvalidImageError)}[case.expect]
    if isinstance(outcome, BaseException) and not isinstance(outcome, (NoInkError, InvalidImageError)):
        raise AssertionError(f"{case.name}: raised {type(outcome).__name__}") from outcome
    assert isinstance(outcome, expected), f"{case.name}: expected {case.expect}, got {outcome!r}"
    if isinstance(outcome, Exception):
        assert_clear_message(str(outcome))
        return
    assert outcome.model_input.shape == (28, 28) and 0.0 <= outcome.confidence <= 1.0
    if case.label is not None:
        assert outcome.label == case.label, f"{case.name}: read {outcome.top_k}, not {case.label}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_recognizer_reads_or_refuses_clearly(case: Case, digits: Recognizer, scratch: Path) -> None:
    value = materialise(case, scratch)
    check_outcome(case, within_timeout(lambda: digits.predict(value), f"predict({case.name})"))


def test_corpus_is_large_and_has_known_answers() -> None:
    assert len(CASES) >= 40 and len(FILE_CASES) >= 40
    assert {c.expect for c in CASES} == {READ, NO_INK, INVALID, ANY}
    assert len({c.name for c in CASES}) == len(CASES)
    assert sum(c.label is not None for c in FILE_CASES) >= 20


def test_exif_rotation_case_needs_the_rotation(digits: Recognizer) -> None:
    """Without its EXIF tag the stored 7 lies on its side, and the model would see something else
    entirely, so the corpus case exif_rotated_7 (which must read 7) really tests that the rotation is
    applied."""
    upright = digits.predict(scan(7)).model_input > 96
    lying = digits.predict(scan(7).rotate(90, expand=True)).model_input > 96
    assert (upright & lying).sum() < 0.5 * (upright | lying).sum()


def test_a_callers_pil_image_is_left_as_it_was(digits: Recognizer) -> None:
    """Shrinking a big image, or turning it upright, must work on a copy."""
    big = scan(7, side=3000)
    before = big.tobytes()
    assert digits.predict(big).label == "7"
    assert big.size == (3000, 3000) and big.tobytes() == before


def test_memory_stays_bounded_on_the_file_corpus(tmp_path: Path) -> None:
    """Peak RSS of a fresh process, before and after predicting every file case (bombs, 40 MP photos...).

    The files are written here, so that building them does not count.
    """
    write_files(tmp_path)
    script = """
import json, resource, sys
from pathlib import Path
from recognizer import Recognizer
rec = Recognizer.load("digits")
paths = sorted(Path(sys.argv[1]).iterdir())
rec.predict(str(Path(sys.argv[1]) / "scan_7.png"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in paths:
    try:
        rec.predict(str(path))
    except ValueError:
        pass
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"files": len(paths), "before_mb": before / 1024, "after_mb": after / 1024}))
"""
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    growth = rss["after_mb"] - rss["before_mb"]
    assert rss["files"] == len(FILE_CASES)
    assert growth < MAX_RSS_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB: {rss}"


# -- through the app's API --------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def api_outcomes(client: Client, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every file case sent to /predict once: {case name: {label: confidence} or the AppError}."""
    folder = tmp_path_factory.mktemp("corpus_api")
    outcomes = {}
    for case in file_cases():
        path = materialise(case, folder)

        def call(path: str = path) -> Any:
            return client.predict(handle_file(path), "digits", api_name="/predict")

        outcomes[case.name] = within_timeout(call, f"/predict({case.name})")
    return outcomes


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_api_shows_the_same_answer_or_message(case: Case, api_outcomes: dict[str, Any], digits: Recognizer,
                                              scratch: Path) -> None:
    """The app gives what the Recognizer gives: the same top label, or the same message (no traceback)."""
    api = api_outcomes[case.name]
    direct = within_timeout(lambda: digits.predict(materialise(case, scratch)), case.name)
    if isinstance(direct, Prediction):
        assert isinstance(api, dict), f"{case.name}: the API failed with {api!r}"
        assert max(api, key=api.get) == direct.label
    else:
        assert isinstance(api, AppError), f"{case.name}: expected an error, the API gave {api!r}"
        assert str(api) == str(direct)


def test_api_refuses_a_file_over_the_size_limit_with_a_message(app_url: str) -> None:
    """Gradio's max_file_size (set by app.py) stops an 11 MB upload before it is stored or decoded."""
    response = requests.post(f"{app_url}/gradio_api/upload", files={"files": ("huge.png", bytes(11 * 2**20))},
                             timeout=60)
    assert response.status_code == 413
    assert "maximum allowed size" in response.text and "Traceback" not in response.text

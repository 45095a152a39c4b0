"""The app's public API through gradio_client, against ``python app.py`` running with the committed models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from recognizer import MODEL_NAMES
from recognizer.feedback import FeedbackStore
from recognizer.model import MODELS_DIR

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str]]:
    """20 MNIST test digits as dark-on-light PNGs at 4x, like scans of ink on paper."""
    data = np.load(FIXTURES / "mnist_test_500.npz")
    folder = tmp_path_factory.mktemp("scans")
    out = []
    for i in range(20):
        image = Image.fromarray(255 - data["x"][i]).resize((112, 112), Image.Resampling.BILINEAR)
        path = folder / f"digit_{i}.png"
        image.save(path)
        out.append((path, str(int(data["y"][i]))))
    return out


def top_label(confidences: dict[str, float]) -> str:
    return max(confidences, key=confidences.get)


def test_predict_reads_scanned_digits(client: Client, scans: list[tuple[Path, str]]) -> None:
    results = [client.predict(handle_file(str(path)), "digits", api_name="/predict") for path, _ in scans]
    for confidences in results:
        values = list(confidences.values())
        assert len(values) == 5 and values == sorted(values, reverse=True) and 0 < sum(values) <= 1 + 1e-6
    right = sum(top_label(c) == label for c, (_, label) in zip(results, scans))
    assert right >= 19, f"only {right} of {len(scans)} MNIST scans read right"


def test_predict_accepts_display_names(client: Client, scans: list[tuple[Path, str]]) -> None:
    path, label = scans[0]
    assert top_label(client.predict(handle_file(str(path)), "Digits", api_name="/predict")) == label


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_exported_model_is_offered_and_no_other(client: Client, model: str, tmp_path: Path) -> None:
    """A model is served exactly when its files are in models/ (letters and characters land after digits)."""
    seven = tmp_path / "seven.png"
    Image.fromarray(255 - np.load(FIXTURES / "mnist_test_500.npz")["x"][0]).save(seven)
    if (MODELS_DIR / f"{model}.tflite").exists():
        assert len(client.predict(handle_file(str(seven)), model, api_name="/predict")) == 5
    else:
        with pytest.raises(AppError, match=f"Unknown model '{model}'"):
            client.predict(handle_file(str(seven)), model, api_name="/predict")


def test_unknown_model_is_named_in_the_error(client: Client, scans: list[tuple[Path, str]]) -> None:
    with pytest.raises(AppError, match="Unknown model 'klingon'.*digits"):
        client.predict(handle_file(str(scans[0][0])), "klingon", api_name="/predict")


def test_blank_image_gives_a_friendly_message(client: Client, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    with pytest.raises(AppError) as error:
        client.predict(handle_file(str(blank)), "digits", api_name="/predict")
    message = str(error.value)
    assert "blank" in message and "Traceback" not in message


def test_non_image_file_gives_a_clear_message(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("these are my shopping notes, not a picture\n" * 20)
    with pytest.raises(AppError, match="not an image we can read"):
        client.predict(handle_file(str(fake)), "digits", api_name="/predict")


def test_the_example_pictures_read_as_their_labels(client: Client) -> None:
    """The upload tab's examples (docs/examples/examples.json): each file is there, and the app reads it
    as its label with its model (they were chosen as read right; a new model must still read them)."""
    examples = json.loads((EXAMPLES / "examples.json").read_text())
    assert {e["model"] for e in examples} == set(MODEL_NAMES)
    for example in examples:
        picture = handle_file(EXAMPLES / example["file"])
        result = client.predict(picture, example["model"], api_name="/predict")
        assert top_label(result) == example["label"], example


def test_only_the_documented_endpoints_are_public(client: Client) -> None:
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/predict", "/feedback", "/status",
    }


def test_feedback_is_stored(client: Client, scans: list[tuple[Path, str]], feedback_dir: Path) -> None:
    path, label = scans[1]
    before = client.predict(api_name="/status")["stored"]
    right = client.predict(handle_file(str(path)), "digits", True, "", api_name="/feedback")
    other = "8" if label != "8" else "3"
    wrong = client.predict(handle_file(str(path)), "digits", False, other, api_name="/feedback")
    assert right["prediction"] == label
    status = client.predict(api_name="/status")
    assert status["stored"] == before + 2
    assert status["sheets"] == "disabled"
    store = FeedbackStore(feedback_dir)
    try:
        records = {r.id: r for r in store.records()}
    finally:
        store.close()
    assert records[right["id"]].correct and records[right["id"]].correct_label == label
    assert not records[wrong["id"]].correct and records[wrong["id"]].model == "digits"


def test_feedback_with_an_unknown_label_is_refused(client: Client, scans: list[tuple[Path, str]]) -> None:
    before = client.predict(api_name="/status")["stored"]
    with pytest.raises(AppError, match="not a character this model knows"):
        client.predict(handle_file(str(scans[2][0])), "digits", False, "Q", api_name="/feedback")
    assert client.predict(api_name="/status")["stored"] == before

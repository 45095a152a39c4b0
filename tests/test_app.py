"""The app's public API through gradio_client, against ``python app.py`` running with the committed models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from app import App, Shown, load_recognizers
from helpers import load_mnist_sample, load_unipen_lines_sample, unipen_line_sketch
from recognizer import MODEL_NAMES, TextReader
from recognizer.feedback import FeedbackService, FeedbackStore
from recognizer.feedback.export import line_arrays
from recognizer.feedback.record import encode_png
from recognizer.model import MODELS_DIR
from recognizer.text_decode import character_error_rate
from training.evaluate_lines import scored

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
        "/predict", "/read", "/feedback", "/status",
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


# -- lines: /read, and feedback on a line from the page ----------------------------------------------------


LINES = load_unipen_lines_sample()
"""Real lines by test writers of the line model: set, text, kind, writer, strokes."""


def line_pngs(folder: Path, sets: tuple[str, ...]) -> list[tuple[Path, str]]:
    """The fixture's lines of ``sets``, each saved as the opaque canvas PNG a browser exports."""
    out = []
    for k, row in enumerate(LINES):
        if row["set"] in sets:
            path = folder / f"line_{k}.png"
            path.write_bytes(encode_png(unipen_line_sketch(k)["composite"]))
            out.append((path, row["text"]))
    return out


@pytest.mark.parametrize(("model", "sets", "max_cer"), [
    ("digits", ("numbers", "digit_strings"), 0.07), ("letters", ("words",), 0.25),
])
def test_read_gives_what_text_reader_reads(
    client: Client, tmp_path: Path, model: str, sets: tuple[str, ...], max_cer: float
) -> None:
    """/read on canvas PNGs of real numbers and words: exactly TextReader.read's reading of the same file,
    with the error rate the line model has on them (tests/test_text_reader.py)."""
    reader = TextReader.load(model)
    truths, texts = [], []
    for path, text in line_pngs(tmp_path, sets):
        answer = client.predict(handle_file(str(path)), model, api_name="/read")
        expected = reader.read(path.read_bytes()).as_dict()
        assert answer["text"] == expected["text"]
        assert answer["confidence"] == pytest.approx(expected["confidence"])
        assert answer["characters"] == json.loads(json.dumps(expected["characters"]))
        truths.append(scored(text))
        texts.append(scored(answer["text"]))
    assert character_error_rate(truths, texts) <= max_cer, list(zip(truths, texts))


def test_read_on_one_character_and_by_display_name(client: Client, scans: list[tuple[Path, str]]) -> None:
    path, label = scans[0]
    answer = client.predict(handle_file(str(path)), "Digits", api_name="/read")
    assert answer["text"] == label and len(answer["characters"]) == 1
    assert answer["characters"][0]["top_k"][0][0] == label and len(answer["characters"][0]["top_k"]) == 5


def test_read_explains_bad_input(client: Client, tmp_path: Path) -> None:
    """An empty canvas, a picture too large to open, a file that is no picture, a truncated PNG and an
    unknown model: each a message for people, never a traceback."""
    blank, bomb, notes, cut = (tmp_path / name for name in ("blank.png", "bomb.png", "notes.png", "cut.png"))
    Image.new("RGBA", (1200, 400), "white").save(blank)
    Image.new("1", (30000, 30000)).save(bomb)
    notes.write_text("these are my shopping notes, not a picture\n" * 20)
    path, _ = line_pngs(tmp_path, ("numbers",))[0]
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for picture, model, says in [
        (blank, "digits", "blank"), (bomb, "digits", "too large"), (notes, "digits", "not an image we can"),
        (cut, "digits", "damaged or truncated"), (path, "klingon", "Unknown model 'klingon'"),
    ]:
        with pytest.raises(AppError) as error:
            client.predict(handle_file(str(picture)), model, api_name="/read")
        assert says in str(error.value) and "Traceback" not in str(error.value)


@pytest.fixture
def page_app(tmp_path: Path) -> Iterator[tuple[App, FeedbackStore]]:
    """The app's functions, as the page calls them, with a real feedback store in a temporary folder."""
    store = FeedbackStore(tmp_path / "feedback")
    yield App(load_recognizers(), FeedbackService(store)), store
    store.close()


def shown_after(app: App, value: object, model: str) -> Shown:
    """What the page keeps after reading ``value`` (ui_predict's outputs: see App.ui_show)."""
    shown = app.ui_predict(value, model)[8]
    assert isinstance(shown, Shown)
    return shown


def test_feedback_on_a_line_from_the_page_is_stored_once(page_app: tuple[App, FeedbackStore]) -> None:
    """A number read on the page and said to be wrong: stored once as a line, with the text typed, its
    reader and the line model's input, and it reaches the export of lines."""
    app, store = page_app
    k = next(k for k, row in enumerate(LINES) if row["text"] == "80537")
    shown = shown_after(app, unipen_line_sketch(k), "digits")
    assert shown.reading.prediction is None and len(shown.reading.text) >= 4
    typed = "12345" if shown.reading.text != "12345" else "54321"
    message, shown, footer = app.ui_feedback(shown, "Wrong", f"  {typed} ")
    assert "Thanks" in message and shown.feedback_sent and "Feedback stored: 1" in footer
    message, _, _ = app.ui_feedback(shown, "Wrong", typed)  # a second click on the same reading
    assert "already saved" in message
    (record,) = store.records()
    assert (record.model, record.reader, record.correct) == ("lines", "digits", False)
    assert record.correct_label == typed
    assert record.predicted == shown.reading.text and record.model_sha256 == app.readers["digits"].sha256
    exported = line_arrays(store.records("lines"))
    assert list(exported["y"]) == [typed] and exported["x"].shape[1] == 32
    assert np.array_equal(exported["x"][0, :, : exported["width"][0]], shown.reading.model_input)


def test_line_feedback_refuses_what_the_reader_cannot_write(page_app: tuple[App, FeedbackStore]) -> None:
    app, store = page_app
    k = next(k for k, row in enumerate(LINES) if row["set"] == "words")
    shown = shown_after(app, unipen_line_sketch(k), "digits")
    message, shown, _ = app.ui_feedback(shown, "Wrong", "hello")
    assert "are not characters" in message and "0-9" in message
    assert not shown.feedback_sent and store.count() == 0
    message, shown, _ = app.ui_feedback(shown, "Right", "")
    assert "Thanks" in message and store.count() == 1


def test_feedback_on_one_character_stays_a_character_s(page_app: tuple[App, FeedbackStore]) -> None:
    """One character on the page: its top 5 and 28x28 input are shown, and its feedback is stored for the
    single-character model, as before; said to be two characters ("11" read as "1"), as a line's."""
    app, store = page_app
    x, y = load_mnist_sample()
    shown = shown_after(app, np.kron(255 - x[0], np.ones((4, 4), np.uint8)), "digits")
    assert shown.reading.prediction is not None and shown.reading.text == str(y[0])
    outputs = app.ui_show(shown, "")
    assert outputs[4] == shown.reading.prediction.as_dict() and outputs[5].shape == (224, 224)
    message, _, _ = app.ui_feedback(shown, "Right", "")
    assert "Thanks" in message
    message, _, _ = app.ui_feedback(shown_after(app, 255 - x[0], "digits"), "Wrong", "Q")
    assert "not a character this model knows" in message
    message, _, _ = app.ui_feedback(shown_after(app, 255 - x[0], "digits"), "Wrong", "77")
    assert "Thanks" in message
    assert sorted(r.model for r in store.records()) == ["digits", "lines"]

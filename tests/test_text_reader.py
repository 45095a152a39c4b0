"""The TextReader with the committed line model: real lines by test writers read with a low error rate,
every bad input refused as ``Recognizer.predict`` refuses it, the alphabet kept, the spans and the
model's input as documented, one character read as ``predict`` reads it, and no TensorFlow."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import (
    NOT_IMAGES,
    empty_canvases,
    load_mnist_sample,
    load_unipen_lines_sample,
    load_unipen_sample,
)
from recognizer import InvalidImageError, NoInkError, Recognizer, TextReader
from recognizer.labels import MODEL_LABELS
from recognizer.text_decode import character_error_rate
from training.data.text_lines import Line
from training.evaluate import sketches
from training.evaluate_lines import CANVAS, DRAWINGS, drawn, scored

REPO = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("DEV_LINES_DIR", REPO / "models"))
pytestmark = pytest.mark.skipif(
    not (MODELS / "lines.tflite").exists(),
    reason="models/lines.tflite is not there yet: train and export the line model (export/lines.py)",
)

LINES = [Line.from_row(row) for row in load_unipen_lines_sample()]
SETS = [row["set"] for row in load_unipen_lines_sample()]

MAX_CER = {
    ("digits", "sketch"): 0.07,
    ("digits", "photo"): 0.12,
    ("letters", "sketch"): 0.25,
    ("letters", "photo"): 0.28,
}
"""CER bounds on the fixture's lines: the committed model's figures (see each test), with margin."""


@pytest.fixture(scope="module")
def readers() -> dict[str, TextReader]:
    return {name: TextReader.load(name, MODELS) for name in MODEL_LABELS}


def lines_of(*sets: str) -> list[tuple[int, Line]]:
    return [(k, line) for k, (line, s) in enumerate(zip(LINES, SETS)) if s in sets]


def picture(k: int, line: Line, how: str):
    """The fixture's line ``k`` as the evaluation draws it: a 1200x400 sketchpad value or a JPEG photo."""
    return drawn(line, how, (0, k, DRAWINGS.index(how)))


def cer(reader: TextReader, lines: list[tuple[int, Line]], how: str) -> tuple[float, list[str]]:
    truths, readings = [], []
    for k, line in lines:
        truths.append(scored(line.text))
        readings.append(scored(reader.read(picture(k, line, how)).text))
    wrong = [f"{t} -> {r}" for t, r in zip(truths, readings) if t != r]
    return character_error_rate(truths, readings), wrong


def test_fixture_has_every_set_and_stays_small():
    assert set(SETS) == {"digit_strings", "numbers", "block_letters", "words", "text_lines"}
    assert (Path(__file__).parent / "fixtures" / "unipen_lines_sample.jsonl.gz").stat().st_size <= 60 * 1024


def test_line_model_is_int8_small_and_matches_its_metadata(readers):
    content = (MODELS / "lines.tflite").read_bytes()
    meta = json.loads((MODELS / "lines.json").read_text())
    assert len(content) <= 1.5 * 2**20
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    reader = readers["characters"]
    reader._interpreter()
    assert reader._local.inp["dtype"] == np.int8
    assert set(meta["alphabet"]) >= set(MODEL_LABELS["characters"])


@pytest.mark.parametrize("how", DRAWINGS)
def test_reads_digit_strings_and_numbers(readers, how):
    error, wrong = cer(readers["digits"], lines_of("digit_strings", "numbers"), how)
    assert error <= MAX_CER[("digits", how)], wrong


@pytest.mark.parametrize("how", DRAWINGS)
def test_reads_words(readers, how):
    error, wrong = cer(readers["letters"], lines_of("words"), how)
    assert error <= MAX_CER[("letters", how)], wrong


def test_reading_carries_characters_spans_and_model_input(readers):
    for k, line in lines_of("numbers", "words", "text_lines")[::2]:
        value = picture(k, line, "sketch")
        reading = readers["characters"].read(value)
        assert reading.text == "".join(c.label for c in reading.characters)
        assert 0.0 <= reading.confidence <= 1.0
        image = reading.model_input
        assert image.dtype == np.uint8 and image.ndim == 2 and image.shape[0] == 32 and image.shape[1] >= 8
        assert image.max() > 128 and image[:, :2].max() < 64  # white ink, a dark margin
        ink_columns = np.flatnonzero(value["layers"][0][..., 3].max(axis=0) > 0)
        previous = -1
        for c in reading.characters:
            x0, x1 = c.span
            assert 0 <= x0 <= x1 < CANVAS[0]
            assert ink_columns[0] - 2 <= x0 and x1 <= ink_columns[-1] + 2  # within the ink
            assert x0 >= previous  # left to right
            previous = x0
            assert not c.top_k or c.top_k[0][0] == c.label
            assert all(0.0 <= p <= 1.0 for _, p in c.top_k)
        json.dumps(reading.as_dict())


def test_spans_are_in_the_input_s_pixels_whatever_the_input(readers):
    """A sketchpad value is read cropped to its strokes, and an array over 2048 px shrunk: the spans
    are still the input's columns."""
    k, line = lines_of("words")[0]
    value = picture(k, line, "sketch")
    reader = readers["characters"]
    spans = [c.span for c in reader.read(value).characters]
    composite = value["composite"][..., :3]
    assert [c.span for c in reader.read(composite).characters] == spans
    doubled = np.repeat(np.repeat(composite, 2, axis=0), 2, axis=1)  # 2400 px wide: shrunk to 2048
    ink = np.flatnonzero(value["layers"][0][..., 3].max(axis=0))
    for c in reader.read(doubled).characters:
        assert 2 * ink[0] - 8 <= c.span[0] <= c.span[1] <= 2 * ink[-1] + 8
    assert reader.read(doubled).characters[-1].span[1] >= 2 * ink[-1] - 40  # not in the shrunk picture's


def test_each_name_writes_only_its_alphabet(readers):
    for k, line in lines_of("numbers", "words", "block_letters", "text_lines"):
        value = picture(k, line, "sketch")
        for name, reader in readers.items():
            reading = reader.read(value)
            allowed = set(MODEL_LABELS[name]) | {" "}
            assert set(reading.text) <= allowed, (name, line.text, reading.text)
            for c in reading.characters:
                assert {label for label, _ in c.top_k} <= allowed


def test_one_character_reads_as_predict_does(readers):
    """A lone character: the line model finds one, and the single-character model reads it."""
    samples = load_unipen_sample()[::4]
    for name, reader in readers.items():
        rec = Recognizer.load(name, MODELS)
        mine = [s for s in samples if s["label"] in rec.labels]
        same = hits_read = hits_predict = 0
        for value, label in sketches(mine, np.random.default_rng(0)):
            reading, predicted = reader.read(value), rec.predict(value)
            same += reading.text == predicted.label
            hits_read += reading.text == label
            hits_predict += predicted.label == label
        assert same >= 0.95 * len(mine), (name, same, len(mine))
        assert hits_read >= hits_predict - 0.03 * len(mine), (name, hits_read, hits_predict)


def test_lone_character_reading_has_its_span_and_confidence(readers):
    x, y = load_mnist_sample()
    canvas = np.zeros((200, 600), np.uint8)
    canvas[40:152, 300:412] = np.kron(x[0], np.ones((4, 4), np.uint8))
    reading = readers["digits"].read(canvas)
    predicted = Recognizer.load("digits", MODELS).predict(canvas)
    assert reading.text == predicted.label == str(y[0])
    assert reading.confidence == pytest.approx(predicted.confidence)
    (c,) = reading.characters
    assert 290 <= c.span[0] <= c.span[1] <= 420


@pytest.mark.parametrize("value", empty_canvases(400, 1200))
def test_empty_canvases_raise_no_ink(readers, value):
    with pytest.raises(NoInkError) as err:
        readers["characters"].read(value)
    assert "draw" in str(err.value).lower() or "blank" in str(err.value).lower()


@pytest.mark.parametrize("value", NOT_IMAGES)
def test_invalid_input_raises_invalid_image(readers, value):
    with pytest.raises(InvalidImageError) as err:
        readers["digits"].read(value)
    assert str(err.value) and "Traceback" not in str(err.value)


def test_truncated_png_and_decompression_bomb(readers):
    k, line = lines_of("numbers")[0]
    png = io.BytesIO()
    Image.fromarray(picture(k, line, "sketch")["composite"]).save(png, "PNG")
    assert readers["digits"].read(png.getvalue()).text  # whole, it reads
    with pytest.raises(InvalidImageError):
        readers["digits"].read(png.getvalue()[: len(png.getvalue()) // 2])
    bomb = io.BytesIO()
    Image.new("1", (30000, 30000)).save(bomb, "PNG")
    with pytest.raises(InvalidImageError, match="too large"):
        readers["digits"].read(bomb.getvalue())


def test_every_kind_of_input_reads_alike(readers, tmp_path):
    """The sketchpad value, its composite as an array, as PNG bytes, as a file and as a PIL image."""
    k, line = lines_of("words")[0]
    value = picture(k, line, "sketch")
    composite = value["composite"]
    png = io.BytesIO()
    Image.fromarray(composite).save(png, "PNG")
    (tmp_path / "line.png").write_bytes(png.getvalue())
    texts = {readers["letters"].read(v).text for v in
             (value, composite, png.getvalue(), str(tmp_path / "line.png"), Image.fromarray(composite))}
    assert len(texts) == 1, texts


def test_read_is_thread_safe(readers):
    values = [picture(k, line, "sketch") for k, line in lines_of("words", "numbers")[:8]]
    reader = readers["characters"]
    expected = [reader.read(v).text for v in values]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda v: reader.read(v).text, values * 3))
    assert got == expected * 3


def test_serving_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from recognizer import TextReader\n"
        f"r = TextReader.load('characters', {str(MODELS)!r})\n"
        "canvas = np.zeros((100, 400), np.uint8); canvas[30:70, 40:60] = 255; canvas[30:70, 200:240] = 255\n"
        "r.read(canvas)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'gradio', 'training')]\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr

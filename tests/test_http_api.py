"""The lean HTTP API (api.py) on the real server: ``python app.py`` with the committed models.

Real pen digits, drawn as a browser's 800x800 canvas exports them, go in as the
request body or as a form's ``file``; bad requests must come back as 4xx JSON
with a message for people, never a stack trace.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import requests
from PIL import Image

from api import MAX_BODY
from benchmarks.inputs import unipen_samples, unipen_sketch
from helpers import load_unipen_lines_sample, unipen_line_sketch
from recognizer.feedback.record import encode_png

PNG = {"Content-Type": "image/png"}


def canvas_png(label: str, nth: int = 0) -> bytes:
    """The ``nth`` UniPen ``label`` drawn on an 800x800 canvas, as the opaque PNG a browser exports."""
    return encode_png(unipen_sketch(unipen_samples(label)[nth])["composite"])


@pytest.fixture(scope="module")
def predict(app_url: str) -> str:
    return f"{app_url}/api/v1/predict"


def refused(response: requests.Response, status: int) -> str:
    """The message of a refusal with ``status``, checked to be JSON for people, not a traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    message = response.json()["error"]
    assert message and "Traceback" not in message
    return message


def test_real_pen_digits_are_read(predict: str) -> None:
    digits = "0123456789"
    answers = [requests.post(predict, data=canvas_png(d), headers=PNG, timeout=30).json() for d in digits]
    right = sum(answer["label"] == digit for digit, answer in zip(digits, answers))
    assert right >= 9, answers
    for answer in answers:
        assert answer["model"] == "digits" and len(answer["top_k"]) == 5
        assert answer["top_k"][0] == {"label": answer["label"], "confidence": answer["confidence"]}
        confidences = [guess["confidence"] for guess in answer["top_k"]]
        assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1 + 1e-6


def test_a_form_with_the_model_and_top_k(predict: str) -> None:
    """multipart/form-data: the picture in ``file``, the parameters as fields or in the query."""
    seven = canvas_png("7")
    answer = requests.post(predict, files={"file": ("seven.png", seven, "image/png")},
                           data={"model": "characters", "top_k": "3"}, timeout=30).json()
    assert answer["model"] == "characters" and answer["label"] == "7" and len(answer["top_k"]) == 3
    answer = requests.post(f"{predict}?top_k=1", files={"file": ("seven.png", seven)}, timeout=30).json()
    assert answer["model"] == "digits" and answer["label"] == "7"
    assert answer["top_k"] == [{"label": "7", "confidence": answer["confidence"]}]


def test_two_characters_are_read_with_a_warning(predict: str) -> None:
    """A picture holding more than one character is read all the same, and says so."""
    from training.data.unipen import draw_strokes

    ink = np.zeros((600, 1200), np.uint8)
    for digit, x in (("1", 350), ("7", 850)):
        sample = unipen_samples(digit)[0]
        ink = np.maximum(ink, draw_strokes(sample["strokes"], sample["y_up"], (1200, 600), 300, (x, 300), 16))
    buffer = io.BytesIO()
    Image.fromarray(255 - ink).save(buffer, "PNG")
    answer = requests.post(predict, data=buffer.getvalue(), headers=PNG, timeout=30).json()
    assert answer["warnings"] == ["several_characters"], answer


@pytest.mark.parametrize(
    ("body", "headers", "query", "status", "says"),
    [
        (b"", PNG, "", 400, "body is empty"),
        (b"these are my shopping notes, not a picture\n" * 20, PNG, "", 422, "not an image we can read"),
        (None, PNG, "?model=klingon", 400, "Unknown model 'klingon'.*digits, letters, characters"),
        (None, PNG, "?top_k=eleven", 400, "top_k must be a whole number from 1 to 10"),
        (None, {"Content-Type": "text/plain"}, "", 415, "Content-Type image/png"),
        (b"\0" * (MAX_BODY + 1), PNG, "", 413, "too large; the limit is 10 MB"),
    ],
    ids=["empty", "not-an-image", "unknown-model", "bad-top-k", "not-a-picture-type", "oversized"],
)
def test_bad_requests_get_a_clear_4xx(
    predict: str, body: bytes | None, headers: dict, query: str, status: int, says: str
) -> None:
    response = requests.post(predict + query, data=canvas_png("7") if body is None else body, headers=headers,
                             timeout=30)
    assert re.search(says, refused(response, status))


def test_an_oversized_body_is_refused_before_it_is_all_read(predict: str) -> None:
    """Sent in chunks, with no length declared up front: refused once past the limit."""
    chunks = iter([b"\0" * 2**20] * 11)
    assert "too large" in refused(requests.post(predict, data=chunks, headers=PNG, timeout=30), 413)


def test_a_blank_canvas_and_a_form_without_a_file(predict: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (800, 800), "white").save(buffer, "PNG")
    assert "blank" in refused(requests.post(predict, data=buffer.getvalue(), headers=PNG, timeout=30), 422)
    form = requests.post(predict, files={"picture": ("seven.png", canvas_png("7"))}, timeout=30)
    assert "field named 'file'" in refused(form, 400)


# -- /api/v1/read: a number, word or line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def read(app_url: str) -> str:
    return f"{app_url}/api/v1/read"


def line_png(text: str) -> bytes:
    """The fixture's real line ``text``, by a test writer of the line model, as a 1200x400 canvas PNG."""
    k = next(k for k, row in enumerate(load_unipen_lines_sample()) if row["text"] == text)
    return encode_png(unipen_line_sketch(k)["composite"])


def test_a_number_and_a_word_are_read(read: str) -> None:
    """As the body or as a form's file, with the model and top_k: what TextReader reads from the same PNG."""
    from recognizer import TextReader

    for text, model in (("80537", "digits"), ("After", "letters")):
        png = line_png(text)
        expected = TextReader.load(model).read(png, top_k=3).as_dict()
        answer = requests.post(f"{read}?model={model}&top_k=3", data=png, headers=PNG, timeout=30).json()
        form = requests.post(read, files={"file": ("line.png", png)}, data={"model": model, "top_k": "3"},
                             timeout=30).json()
        assert answer == form
        assert answer["model"] == model and answer["text"] == expected["text"] == text
        assert answer["confidence"] == pytest.approx(expected["confidence"])
        assert [c["label"] for c in answer["characters"]] == list(text)
        for character in answer["characters"]:
            assert len(character["top_k"]) == 3 and character["top_k"][0][0] == character["label"]
            assert 0 <= character["span"][0] <= character["span"][1] < 1200


@pytest.mark.parametrize(
    ("body", "headers", "query", "status", "says"),
    [
        (b"", PNG, "", 400, "body is empty"),
        (b"these are my shopping notes, not a picture\n" * 20, PNG, "", 422, "not an image we can read"),
        ("blank", PNG, "", 422, "blank"),
        ("bomb", PNG, "", 422, "too large"),
        ("truncated", PNG, "", 422, "damaged or truncated"),
        (None, PNG, "?model=klingon", 400, "Unknown model 'klingon'.*digits, letters, characters"),
        (None, PNG, "?model=letters&top_k=53", 400, "top_k must be a whole number from 1 to 52"),
        (None, {"Content-Type": "text/plain"}, "", 415, "Content-Type image/png"),
        (b"\0" * (MAX_BODY + 1), PNG, "", 413, "too large; the limit is 10 MB"),
    ],
    ids=["empty", "not-an-image", "blank-canvas", "huge", "truncated", "unknown-model", "bad-top-k",
         "not-a-picture-type", "oversized"],
)
def test_bad_reads_get_a_clear_4xx(
    read: str, body: bytes | str | None, headers: dict, query: str, status: int, says: str
) -> None:
    number = line_png("80537")
    pictures = {None: number, "truncated": number[: len(number) // 2]}
    buffer = io.BytesIO()
    if body == "blank":
        Image.new("RGBA", (1200, 400), "white").save(buffer, "PNG")
    elif body == "bomb":
        Image.new("1", (30000, 30000)).save(buffer, "PNG")
    data = buffer.getvalue() or pictures.get(body, body)
    response = requests.post(read + query, data=data, headers=headers, timeout=30)
    assert re.search(says, refused(response, status))

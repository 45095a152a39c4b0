"""The pieces of training/evaluate_lines.py and the column-cut baseline: no line model needed."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from helpers import load_mnist_sample, load_unipen_lines_sample
from recognizer import Recognizer
from training.column_cut import pieces, read_by_columns
from training.data.text_lines import Line
from training.evaluate_lines import CANVAS, MARGIN, drawn, is_digit_run, score, scored, write_docs

ROWS = load_unipen_lines_sample()


def line(k: int = 0) -> Line:
    return Line.from_row(ROWS[k])


@pytest.mark.parametrize("text", ["0123", "9876", "7890", "12", "98", "345 6"])
def test_digit_runs_are_runs(text):
    assert is_digit_run(text)


@pytest.mark.parametrize("text", ["2026", "100", "33", "1357", "0", "91902", "6390"])
def test_numbers_are_not_runs(text):
    assert not is_digit_run(text)


def test_scoring_ignores_spaces_and_punctuation():
    assert scored("(01) 23-45/6.") == "0123456"
    assert scored("it's New York") == "itsNewYork"
    s = score(["2026", "New York", "ab"], ["20 26", "new york", "abc"])
    assert s["n"] == 3
    assert s["cer"] == pytest.approx(100 * 3 / 13, abs=0.01)  # N and Y in case, and the c: 3 of 13
    assert s["cer_any_case"] == pytest.approx(100 * 1 / 13, abs=0.01)
    assert s["exact"] == pytest.approx(100 / 3, abs=0.01)
    assert s["exact_any_case"] == pytest.approx(200 / 3, abs=0.01)


def test_sketch_is_a_wide_sketchpad_value_with_the_line_inside():
    value = drawn(line(), "sketch", (1, 2, 3))
    assert set(value) == {"background", "layers", "composite"}
    alpha = value["layers"][0][..., 3]
    assert alpha.shape == (CANVAS[1], CANVAS[0]) and value["composite"].shape == (CANVAS[1], CANVAS[0], 4)
    rows, cols = np.flatnonzero(alpha.max(axis=1)), np.flatnonzero(alpha.max(axis=0))
    assert rows[0] >= MARGIN - 2 and rows[-1] <= CANVAS[1] - MARGIN + 2
    assert cols[0] >= MARGIN - 2 and cols[-1] <= CANVAS[0] - MARGIN + 2
    assert np.array_equal(drawn(line(), "sketch", (1, 2, 3))["composite"], value["composite"])  # seeded


def test_photo_is_dark_ink_on_paper_as_jpeg():
    data = drawn(line(), "photo", (1, 2, 3))
    picture = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    assert data[:2] == b"\xff\xd8" and picture.shape == (CANVAS[1], CANVAS[0])
    alpha = drawn(line(), "sketch", (1, 2, 3))["layers"][0][..., 3]  # the same draw of the line
    assert picture[alpha > 200].mean() < picture[alpha == 0].mean() - 30


def test_column_cut_reads_characters_apart_and_not_together():
    x, y = load_mnist_sample()
    canvas = np.zeros((140, 420), np.uint8)
    for k, left in enumerate((20, 150, 280)):
        canvas[20:132, left : left + 112] = np.kron(x[k], np.ones((4, 4), np.uint8))
    digits = Recognizer.load("digits")
    assert len(pieces(canvas)) == 3
    assert read_by_columns(digits, canvas) == "".join(str(v) for v in y[:3])
    big = [np.kron(x[k], np.ones((4, 4), np.uint8)) for k in range(2)]
    touching = np.zeros((140, 240), np.uint8)  # the second begins where the first's ink is
    touching[20:132, 20:132] = big[0]
    start = 20 + int(np.flatnonzero(big[0].max(axis=0))[-1]) - 10 - int(np.flatnonzero(big[1].max(axis=0))[0])
    touching[20:132, start : start + 112] = np.maximum(touching[20:132, start : start + 112], big[1])
    assert len(read_by_columns(digits, touching)) == 1  # what the baseline cannot do


def test_write_docs_puts_the_section_in_once(tmp_path):
    doc = tmp_path / "evaluation.md"
    doc.write_text("# Evaluation\n\n## Models\n\ntext\n\n## Reproduce the models\n\nsteps\n")
    write_docs("## Lines\n\nfirst\n", doc)
    write_docs("## Lines\n\nsecond\n", doc)
    text = doc.read_text()
    assert text.count("## Lines") == 1 and "second" in text and "first" not in text
    assert text.index("## Lines") < text.index("## Reproduce the models") and text.endswith("steps\n")

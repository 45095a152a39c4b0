"""Plain pictures first: every cell of the style matrix (training/style_matrix.py) reads about as well
as the plain 28x28 picture, with the committed models, on a small sample of the shipped fixtures.

Cropping a picture to the character once read 71% where the plain picture read 99.6%: the ink on the
border was taken for a shadow; so was a tiny crop blown up (75.5%, light on dark, stretched to 128
px). A sample of 20 characters a cell catches a fall of that size; the full matrix, on 500 a cell,
is ``python -m training.style_matrix <model>``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from helpers import FIXTURES, load_mnist_sample
from recognizer import Recognizer
from recognizer.labels import BYCLASS
from training.style_matrix import PLAIN, Style, cells, render

SAMPLE = 20
"""Characters a cell."""
SLACK = 2
"""A cell may read this many of them fewer than the plain cell: a point and a half is one in 67."""


def _glyphs(model: str, labels: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """SAMPLE fixture characters the model knows, spread over its classes."""
    if model == "digits":
        x, y = load_mnist_sample()
        return x[:SAMPLE], [str(int(v)) for v in y[:SAMPLE]]
    with np.load(FIXTURES / "femnist_sample.npz") as data:
        x, chars = data["x"], np.asarray(BYCLASS)[data["y"]]
    known = [i for i in range(len(x)) if chars[i] in labels]
    chosen = np.random.default_rng(0).permutation(known)[:SAMPLE]
    return x[chosen], list(chars[chosen])


@pytest.fixture(scope="module", params=["digits", "letters", "characters"])
def model_and_sample(request):
    rec = Recognizer.load(request.param)
    glyphs, labels = _glyphs(rec.name, rec.labels)
    plain = sum(rec.predict(render(g, None)).label == label for g, label in zip(glyphs, labels))
    return rec, glyphs, labels, plain


def _cell_names(model: str) -> list[str]:
    """Every cell for digits; for the two letter models, every polarity, crop and size (the axes that
    interact), so that the three together stay within a minute or so."""
    names = [n for n in cells() if n != PLAIN]
    if model == "digits":
        return names
    # Stretched to a square, one of 62 characters may become another (an l a bar, a 0 an O).
    return [n for n in names if cells()[n].fmt == "png" and cells()[n].aspect != "stretch"]


STROKE_SHORTFALL = (
    "Known shortfall, not of the plain-picture handling: strokes half or twice MNIST's width cost every "
    "crop and polarity alike, transparent included (digits 17-18 of 20 with fat strokes; letters and "
    "characters 8-9 of 20 with thin ones, 12 with fat ones, against 13-15 plain): the stroke "
    "normalisation and the models, in docs/evaluation.md"
)


def _cell(name: str):
    style = cells()[name]
    marks = [pytest.mark.xfail(reason=STROKE_SHORTFALL, strict=False)] if style.stroke != "normal" else []
    return pytest.param(name, marks=marks)


@pytest.mark.parametrize("cell", [_cell(n) for n in cells() if n != PLAIN])
def test_every_cell_reads_like_the_plain_picture(model_and_sample, cell):
    rec, glyphs, labels, plain = model_and_sample
    if cell not in _cell_names(rec.name):
        pytest.skip("JPEG and stretched cells are run for digits only")
    style = cells()[cell]
    right = sum(rec.predict(render(g, style)).label == label for g, label in zip(glyphs, labels))
    assert right >= plain - SLACK, f"{rec.name} {cell}: {right}/{len(labels)} against {plain} plain"
    if rec.name == "digits":
        assert right >= 0.95 * len(labels), f"{cell}: {right}/{len(labels)}"


def test_the_matrix_covers_every_axis():
    """Both polarities and transparency, four crops, three aspects, 16 to 2,000 px, PNG and JPEG, thin
    and fat strokes, drawn large or a tiny crop blown up: each value of each axis is in at least one cell."""
    styles = [s for s in cells().values() if s is not None]
    for axis, wanted in {
        "polarity": {"light_on_dark", "dark_on_light", "transparent"},
        "crop": {"ink", "two", "margin", "wide"},
        "aspect": {"square", "stretch", "own"},
        "fmt": {"png", "jpeg"},
        "stroke": {"normal", "thin", "fat"},
        "source": {"drawn", "small"},
    }.items():
        assert {getattr(s, axis) for s in styles} == wanted
    sizes = {s.size for s in styles}
    assert min(sizes) == 16 and max(sizes) == 2000  # (16 px with a wide margin left out: an 8 px character)


def test_a_crop_to_the_ink_touches_every_edge_and_a_wide_margin_none():
    x, _ = load_mnist_sample()

    def ink(style: Style) -> np.ndarray:
        image = np.asarray(Image.open(io.BytesIO(render(x[0], style))).convert("L"))
        return image > 8  # light on dark; any ink, as a crop to the ink cuts

    cropped = ink(Style("light_on_dark", "ink", "own", 300))
    assert cropped[0].any() and cropped[-1].any() and cropped[:, 0].any() and cropped[:, -1].any()
    wide = ink(Style("light_on_dark", "wide", "square", 300))
    assert not (wide[0].any() or wide[-1].any() or wide[:, 0].any() or wide[:, -1].any())
    blown_up = ink(Style("light_on_dark", "ink", "stretch", 128, source="small"))
    assert blown_up.shape == (128, 128)
    assert blown_up[0].any() and blown_up[-1].any() and blown_up[:, 0].any() and blown_up[:, -1].any()

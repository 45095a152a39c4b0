"""Every data source loads from the small real fixtures the repository ships, with no network."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import numpy as np
import pytest

from helpers import FIXTURES, load_mnist_sample
from recognizer.labels import BYCLASS
from training.data import emnist, femnist, unipen
from training.data.base import writer_split
from training.data.idx import parse_idx, read_idx

EMNIST_ZIP = FIXTURES / "emnist_sample_mini.zip"


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def test_idx_round_trip_plain_and_gzipped(tmp_path):
    x, _ = load_mnist_sample()
    raw = _idx_bytes(x[:7])
    assert np.array_equal(parse_idx(io.BytesIO(raw)), x[:7])
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    assert np.array_equal(read_idx(tmp_path / "a.gz"), x[:7])


def test_idx_rejects_truncated_files():
    x, _ = load_mnist_sample()
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(io.BytesIO(_idx_bytes(x[:3])[:-10]))


def test_mnist_loader_reads_a_folder_of_idx_files(tmp_path):
    from training.data import mnist

    x, y = load_mnist_sample()
    for stem, arr in [
        ("train-images-idx3-ubyte", x[:60]),
        ("train-labels-idx1-ubyte", y[:60]),
        ("t10k-images-idx3-ubyte", x[60:90]),
        ("t10k-labels-idx1-ubyte", y[60:90]),
    ]:
        (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    parts = mnist.load(tmp_path)
    assert len(parts["train"]) == 60 and len(parts["test"]) == 30
    assert parts["train"].x.shape == (60, 28, 28) and parts["train"].x.dtype == np.uint8
    assert list(parts["test"].y) == list(y[60:90])


def test_emnist_zip_is_read_upright_with_byclass_labels():
    """The official zip stores images transposed; the loader must turn them upright."""
    with zipfile.ZipFile(EMNIST_ZIP) as z:
        stored = read_idx(z.read("gzip/emnist-byclass-train-images-idx3-ubyte.gz"))
    images, labels = emnist.read_split(EMNIST_ZIP, "train")
    assert images.shape == (200, 28, 28) and labels.max() < 62
    assert np.array_equal(images[5], stored[5].T)
    # Upright handwriting has more ink in its vertical strokes' columns than a transposed one's rows
    # for tall glyphs like '1' and 'l': their ink spans more rows than columns.
    tall = [i for i, lab in enumerate(labels) if BYCLASS[lab] in "1lI"]
    assert tall, "the sample should hold some 1, l or I"
    spans = [(np.ptp(np.nonzero(images[i] > 64)[0]), np.ptp(np.nonzero(images[i] > 64)[1])) for i in tall]
    assert np.mean([rows > cols for rows, cols in spans]) > 0.8


def test_emnist_reads_via_the_recognizer_like_mnist():
    """A '0'-'9' EMNIST digit, upright and preprocessed, is read right by the committed digits model."""
    from recognizer import Recognizer

    parts = emnist.load(emnist_zip=EMNIST_ZIP)
    test = parts["test"]
    digits = np.flatnonzero(test.y < 10)
    rec = Recognizer.load("digits")
    pred = rec.probabilities(test.x[digits]).argmax(1)
    assert (pred == test.y[digits]).mean() > 0.9


def test_emnist_no_network_when_a_zip_is_given(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the EMNIST loader tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert emnist.find_zip(emnist_zip=EMNIST_ZIP) == EMNIST_ZIP
    assert len(emnist.load(emnist_zip=EMNIST_ZIP)["train"]) == 200


def test_femnist_loader_keeps_writers():
    split = femnist.load(FIXTURES / "femnist_sample.npz")
    assert len(split) == len(split.writer) > 100
    assert split.x.shape[1:] == (28, 28)
    assert set(np.unique(split.writer)) and split.y.max() < 62


def test_unipen_trajectories_are_drawn_and_preprocessed():
    split = unipen.load(FIXTURES / "unipen_sample.jsonl.gz")
    assert len(split) == 372 and split.x.shape == (372, 28, 28)
    assert set(split.chars()) == set(BYCLASS)
    assert (split.x.reshape(len(split), -1).max(1) > 200).all(), "every sample must have ink"


def test_unipen_dots_are_drawn():
    """A one-point stroke (the dot of an i) must leave ink, as a pen tap does on a sketchpad."""
    image = unipen.draw_strokes(
        [[[0, 0], [0, 100]], [[0, 130]]], y_up=False, canvas=(300, 300), height=200, brush=10
    )
    dot_row = 150 + 100  # the dot sits 130 units down the 130-unit tall glyph, scaled to 200 px
    assert image[dot_row - 4 : dot_row + 5, 145:156].max() == 255


def test_writer_split_keeps_writers_apart():
    writers = np.repeat(np.array([f"w{i}" for i in range(40)]), 5)
    train, val, test = writer_split(writers, (0.1, 0.1), seed=1)
    assert len(train) + len(val) + len(test) == len(writers)
    sets = [set(writers[i]) for i in (train, val, test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(sets[1]) == 4 and len(sets[2]) == 4


def test_emnist_zip_is_found_in_the_data_dir_then_in_the_package_cache(tmp_path, monkeypatch):
    """A folder without emnist.zip falls back to the emnist package's cache (no download when it is there)."""
    import shutil
    import socket

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    cache = tmp_path / "cache" / "emnist.zip"
    cache.parent.mkdir()
    shutil.copy(EMNIST_ZIP, cache)
    monkeypatch.setattr(emnist, "PACKAGE_CACHE", cache)
    empty = tmp_path / "data"
    empty.mkdir()
    assert emnist.find_zip(data_dir=empty) == cache
    shutil.copy(EMNIST_ZIP, empty / "emnist.zip")
    assert emnist.find_zip(data_dir=empty) == empty / "emnist.zip"


def test_extra_unipen_renderings_go_to_training_only(tmp_path):
    """``renderings=2`` adds a second, differently drawn copy of each training trajectory,
    and leaves validation and test as they were, so their scores stay comparable."""
    from training.datasets import load_task

    with gzip.open(FIXTURES / "unipen_sample.jsonl.gz", "rt") as f:
        lines = [json.loads(line) for line in f]
    for sample in lines:  # new writer names: the fixture's own writers are always held out for test
        sample["writer"] = "renamed-" + sample["writer"]
    with gzip.open(tmp_path / "unipen_dev.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(s) + "\n" for s in lines)

    once = load_task("characters", "unipen", str(tmp_path), renderings=1)
    twice = load_task("characters", "unipen", str(tmp_path), renderings=2)
    n = len(once.train)
    assert n > 100 and len(twice.train) == 2 * n
    assert np.array_equal(twice.train.x[:n], once.train.x) and np.array_equal(twice.train.y[n:], once.train.y)
    assert not np.array_equal(twice.train.x[n:], once.train.x), "the second drawing uses other brushes"
    assert np.array_equal(twice.test.x, once.test.x) and np.array_equal(twice.val.x, once.val.x)


def test_other_pens_make_strokes_thinner_or_fatter_and_keep_labels():
    """A redrawn glyph's strokes are as much thinner or fatter as the pen says, measured as serving
    measures them; the extra images keep their labels and writers and go through the preprocessing."""
    from recognizer.preprocess import stroke_width, to_model_input
    from training.data.base import Split
    from training.data.pens import redrawn, with_other_pens

    x, y = load_mnist_sample()
    glyphs = np.stack([to_model_input(g) for g in x[:40]])
    for glyph in glyphs[:10]:
        base, thin, fat = (stroke_width(redrawn(glyph, f, 0.5) > 127) for f in (1.0, 0.5, 2.0))
        assert 0.2 * base < thin < 0.75 * base and 1.5 * base < fat < 3 * base
    train = Split(glyphs, y[:40].astype(np.int64), np.array([f"w{i % 4}" for i in range(40)]), "mnist")
    extra = with_other_pens(train, 0.5, seed=3)
    assert len(extra) == 20 and extra.x.shape[1:] == (28, 28) and extra.x.dtype == np.uint8
    assert set(zip(extra.y, extra.writer)) <= set(zip(train.y, train.writer))
    assert not any(np.array_equal(e, g) for e in extra.x for g in glyphs), "every extra glyph is redrawn"


def test_more_drawings_of_the_training_lines_keep_each_text_with_its_own_pictures():
    """``train_lines --drawings 2``: the same real lines drawn twice, each time with another brush and
    size, joined into one set whose texts and kinds still belong to their pictures."""
    from helpers import load_unipen_lines_sample
    from training.data.text_lines import Line, LineSet, line_image
    from training.train_lines import batches, joined

    rows = load_unipen_lines_sample()[:6]
    lines = [Line.from_row(row) for row in rows]

    def drawing(seed: int) -> LineSet:
        drawn = [line_image(line, seed * 100 + k, photo_share=0.0) for k, line in enumerate(lines)]
        return LineSet(
            [image for image, _ in drawn],
            [line.text for line in lines],
            np.array([line.kind for line in lines]),
            np.array([line.writer for line in lines]),
            np.array([how for _, how in drawn]),
        )

    first, second = drawing(0), drawing(1)
    both = joined([first, second])
    assert len(both) == 12
    assert both.texts == first.texts + second.texts
    assert both.kinds.tolist() == first.kinds.tolist() * 2
    assert any(a.shape != b.shape or (a != b).any() for a, b in zip(first.images, second.images))
    shuffled = batches(both, np.arange(12), 48 * 160, np.random.default_rng(0))
    seen = [i for *_, group in shuffled for i in group]
    assert sorted(seen) == list(range(12))

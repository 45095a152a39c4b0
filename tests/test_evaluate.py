"""training/evaluate.py's scoring, with the committed digits model."""

from __future__ import annotations

import json

import numpy as np

from helpers import load_mnist_sample, load_unipen_sample
from recognizer import Recognizer
from recognizer.model import MODELS_DIR
from training.data import unipen
from training.evaluate import brush_grid, score, sketch_draws, sketch_groups, sketches
from training.writer_spread import group_accuracies, spread, writer_counts


def test_score_counts_hits_overall_and_per_group():
    rec = Recognizer.load("digits")
    x, y = load_mnist_sample()
    x, labels = x[:40], [str(v) for v in y[:40]]
    labels[0] = "9" if labels[0] != "9" else "8"  # one wrong label: that input must count as a miss
    groups = [("a",)] * 20 + [("b",)] * 20
    result = score(rec, zip(x, labels), groups)
    hits = [rec.predict(image).label == label for image, label in zip(x, labels)]
    assert not hits[0]
    assert result["n"] == 40 and result["accuracy"] == round(sum(hits) / 40, 4)
    assert result["by_group"]["a"] == {"n": 20, "accuracy": round(sum(hits[:20]) / 20, 4),
                                       "case_insensitive": round(sum(hits[:20]) / 20, 4)}
    assert result["by_group"]["b"]["accuracy"] == round(sum(hits[20:]) / 20, 4)
    assert "by_group" not in score(rec, zip(x[:3], labels[:3]))


def test_an_input_in_several_groups_counts_in_each():
    rec = Recognizer.load("digits")
    x, y = load_mnist_sample()
    labels = [str(v) for v in y[:6]]
    groups = [("quality OK", "audit: readable")] * 3 + [("quality ?", "audit: readable")] * 3
    result = score(rec, zip(x[:6], labels), groups)
    assert set(result["by_group"]) == {"quality OK", "quality ?", "audit: readable"}
    assert result["by_group"]["audit: readable"]["n"] == 6
    assert result["by_group"]["quality ?"]["n"] == 3


def test_the_audit_names_broken_test_digits_and_only_where_it_looked():
    scope, broken = unipen.audit()
    assert scope["split"] == "test" and broken
    assert all(label in scope["labels"] for _, label, _ in broken)
    writer, label, digest = sorted(broken)[0]
    strokes = [[[0, 0], [0, 10]]]
    listed = {"writer": writer, "label": label, "quality": "?", "strokes": strokes}
    seed = scope["seed"]
    # A sample is found by its strokes, not by its writer and label alone.
    assert sketch_groups(listed, (scope, broken), "test", seed) == ("quality ?", "audit: readable")
    listed_key = unipen.sample_key(listed)
    now_listed = (scope, broken | {listed_key})
    assert sketch_groups(listed, now_listed, "test", seed) == ("quality ?", "audit: broken")
    # Outside the audit's scope (another split, or a letter) there is no verdict.
    assert sketch_groups(listed, (scope, {listed_key}), "val", seed) == ("quality ?",)
    letter = {**listed, "label": "a"}
    assert sketch_groups(letter, (scope, {unipen.sample_key(letter)}), "test", seed) == ("quality ?",)


def test_the_brush_grid_scores_each_pair_of_size_and_brush():
    rec = Recognizer.load("digits")
    digits = [s for s in load_unipen_sample() if s["label"].isdigit()][:30]
    grid = brush_grid(rec, digits, heights=(100, 400), brushes=(12, 80))
    assert grid["n"] == 30 and grid["heights"] == [100, 400] and grid["brushes"] == [12, 80]
    (small_thin, small_fat), (big_thin, big_fat) = grid["accuracy"]
    assert small_fat is None  # a brush wider than half the character is not a drawing of it
    # Digits of a usual size and brush must read well; the fat brush on a 400 px digit is the
    # grid's cell that fills loops (brush = a fifth of the height) and may read worse.
    assert small_thin >= 0.9 and big_thin >= 0.9
    assert 0.0 <= big_fat <= 1.0


def test_sketch_draws_agree_with_scoring_each_draw_alone():
    rec = Recognizer.load("digits")
    digits = [s for s in load_unipen_sample() if s["label"].isdigit()][:25]
    result = sketch_draws(rec, digits, draws=3, first_seed=7)
    alone = [score(rec, sketches(digits, np.random.default_rng(seed)))["accuracy"] for seed in (7, 8, 9)]
    assert result["n"] == 25 and result["draws"] == 3 and result["seeds"] == [7, 9]
    assert result["accuracy_per_draw"] == alone
    assert result["mean"] == round(float(np.mean(alone)), 4)
    assert result["always_right"] >= 20, "the committed model reads most pen digits in every draw"
    assert result["always_right"] <= round(min(alone) * 25), "right every time: right in the worst draw"
    assert result["never_right"] <= round((1 - max(alone)) * 25), "never right: wrong in the best draw"
    by_writer = result["by_writer"]
    assert sorted(by_writer) == sorted({s["writer"] for s in digits})
    assert sum(v["n"] for v in by_writer.values()) == 25
    pooled = sum(v["n"] * v["accuracy"] for v in by_writer.values()) / 25
    assert abs(pooled - result["mean"]) < 1e-3, "the writers' shares add up to the mean over all draws"


def test_a_group_of_writers_is_scored_by_its_samples_not_by_its_writers():
    # A writes 10 samples, all right; B writes 90, all wrong. A group of A and B reads 10%, not 50%.
    counts = {"A": (10, 10.0), "B": (90, 0.0)}
    accuracies = group_accuracies(counts, group=2, rounds=4000, rng=np.random.default_rng(0))
    values, times = np.unique(accuracies.round(6), return_counts=True)
    assert values.tolist() == [0.0, 0.1, 1.0]
    assert abs(times[1] / 4000 - 0.5) < 0.05, "half the groups hold one writer of each"
    assert spread(accuracies, bar=0.97)["share_at_bar"] == round(times[2] / 4000, 3)


def test_spread_reads_percentiles_and_the_share_at_the_bar():
    result = spread(np.linspace(0.9, 1.0, 101), bar=0.9705)
    assert (result["p5"], result["median"], result["p95"]) == (0.905, 0.95, 0.995)
    assert result["share_at_bar"] == round(30 / 101, 3)


def test_the_committed_digits_model_records_each_held_out_writers_sketches():
    meta = json.loads((MODELS_DIR / "digits.json").read_text())
    test = writer_counts(meta, ("test",))
    both = writer_counts(meta, ("test", "val"))
    assert sum(n for n, _ in test.values()) == meta["held_out_evaluation"]["sketch"]["n"]
    assert len(both) > len(test), "the validation writers are others"
    mean = sum(right for _, right in test.values()) / sum(n for n, _ in test.values())
    assert abs(mean - meta["held_out_evaluation"]["sketch_draws"]["mean"]) < 1e-3


def test_paired_photos_counts_each_reading_that_moved(tmp_path):
    """training.paired_photos: the same pictures read twice; a reading made wrong in the "before"
    file counts as mended, and nothing else moved."""
    import pickle

    from training import paired_photos
    from training.evaluate import scans

    x, y = load_mnist_sample()
    drawn = scans(x[:12], [str(v) for v in y[:12]], np.random.default_rng(0), "lamp")
    pictures = {"digits/photo": list(drawn)}
    path = tmp_path / "pictures.pkl"
    path.write_bytes(pickle.dumps(pictures))
    paired_photos.read(path, tmp_path / "after.json")
    after = json.loads((tmp_path / "after.json").read_text())["digits/photo"]
    truth = [label for _, label in pictures["digits/photo"]]
    right = [k for k, (a, t) in enumerate(zip(after, truth)) if a == t]
    assert len(right) >= 10
    before = list(after)
    before[right[0]] = "8" if truth[right[0]] != "8" else "9"
    (tmp_path / "before.json").write_text(json.dumps({"digits/photo": before}))
    [row] = paired_photos.compare(path, tmp_path / "before.json", tmp_path / "after.json")
    assert (row["changed"], row["mended"], row["broken"]) == (1, 1, 0)
    assert abs(row["after"] - row["before"] - 100 / 12) < 0.02

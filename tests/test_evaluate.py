"""training/evaluate.py's scoring, with the committed digits model."""

from __future__ import annotations

from helpers import load_mnist_sample
from recognizer import Recognizer
from training.evaluate import score


def test_score_counts_hits_overall_and_per_group():
    rec = Recognizer.load("digits")
    x, y = load_mnist_sample()
    x, labels = x[:40], [str(v) for v in y[:40]]
    labels[0] = "9" if labels[0] != "9" else "8"  # one wrong label: that input must count as a miss
    groups = ["a"] * 20 + ["b"] * 20
    result = score(rec, zip(x, labels), groups)
    hits = [rec.predict(image).label == label for image, label in zip(x, labels)]
    assert not hits[0]
    assert result["n"] == 40 and result["accuracy"] == round(sum(hits) / 40, 4)
    assert result["by_group"]["a"] == {"n": 20, "accuracy": round(sum(hits[:20]) / 20, 4),
                                       "case_insensitive": round(sum(hits[:20]) / 20, 4)}
    assert result["by_group"]["b"]["accuracy"] == round(sum(hits[20:]) / 20, 4)
    assert "by_group" not in score(rec, zip(x[:3], labels[:3]))

"""Gated retraining from feedback, on the committed digits model and real handwriting from the fixtures.

The first feedback imitates users with a strongly slanted hand (digits rotated
by 40-50 degrees), which the committed model reads poorly. Fine-tuned on their
corrected labels, the model improves on held-out slanted digits and keeps its
MNIST accuracy: promoted. The second is upright digits with deliberately wrong
labels: whatever the model learns from them, it must be refused.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from feedback_helpers import digits
from helpers import FIXTURES, load_unipen_sample
from recognizer.feedback import FeedbackService, FeedbackStore
from recognizer.feedback.export import write_npz
from training.data.unipen import draw_strokes

MODELS = Path(__file__).resolve().parent.parent / "models"

pytest.importorskip("tensorflow")


def real_digits(slant: tuple[float, float]) -> list[tuple[np.ndarray, int]]:
    """FEMNIST and UniPen digits (real writers, not MNIST's), rotated by a random angle in ``slant``."""
    femnist = np.load(FIXTURES / "femnist_sample.npz")
    images = [(x, int(y)) for x, y in zip(femnist["x"], femnist["y"], strict=True) if y < 10]
    for sample in load_unipen_sample():
        if sample["label"].isdigit():
            images.append((draw_strokes(sample["strokes"], sample["y_up"]), int(sample["label"])))
    rng = np.random.default_rng(0)
    rotate = Image.Resampling.BILINEAR
    return [(np.asarray(Image.fromarray(x).rotate(rng.uniform(*slant), expand=True, resample=rotate)), y)
            for x, y in images]


def collect_feedback(directory: Path, slant: tuple[float, float], shift: int, monkeypatch) -> Path:
    """Submit feedback on real digits through the real service; labels are shifted by ``shift``.

    Record ids are drawn from a seeded generator, so that the held-out part (chosen by id) is the same
    in every run.
    """
    rng = random.Random(shift)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4))
    model = digits()
    service = FeedbackService(FeedbackStore(directory))
    images = real_digits(slant)
    for (image, y), prediction in zip(images, model.predict_batch([x for x, _ in images]), strict=True):
        label = model.labels[(y + shift) % 10]
        correct = prediction.label == label
        service.submit(model.name, model.sha256, model.labels, prediction, correct, label, image)
    service.close()
    return directory


@pytest.fixture
def models_dir(tmp_path) -> Path:
    """A copy of the committed digits model, for retraining to replace."""
    out = tmp_path / "models"
    out.mkdir()
    for name in ("digits.tflite", "digits.json", "digits.weights.npz"):
        shutil.copy(MODELS / name, out / name)
    return out


def retrain(models_dir: Path, feedback: Path) -> dict:
    from training.retrain import main

    return main(["digits", "--feedback", str(feedback), "--models-dir", str(models_dir),
                 "--base-npz", str(FIXTURES / "mnist_test_500.npz")])


def test_feedback_that_teaches_something_new_is_promoted(models_dir, tmp_path, capsys, monkeypatch):
    feedback = collect_feedback(tmp_path / "feedback", (40, 50), 0, monkeypatch)
    before = json.loads((models_dir / "digits.json").read_text())
    result = retrain(models_dir, feedback)

    assert result["promoted"], result["reason"]
    assert result["new"]["feedback"] > result["old"]["feedback"]
    assert result["old"]["base"] - result["new"]["base"] <= result["tolerance_points"] / 100
    table = capsys.readouterr().out
    assert "base test (n=250)" in table and "held-out feedback" in table and "PROMOTED" in table

    after = json.loads((models_dir / "digits.json").read_text())
    content = (models_dir / "digits.tflite").read_bytes()
    assert after["sha256"] == hashlib.sha256(content).hexdigest() != before["sha256"]
    (entry,) = after["retraining"]
    stored = {r.id for r in FeedbackStore(feedback).records()}
    assert set(entry["feedback_ids"]["train"]) | set(entry["feedback_ids"]["held_out"]) == stored
    assert not set(entry["feedback_ids"]["train"]) & set(entry["feedback_ids"]["held_out"])
    assert entry["previous_sha256"] == before["sha256"]


def test_a_model_made_worse_is_refused(models_dir, tmp_path, capsys, monkeypatch):
    # Upright digits, every label deliberately wrong: learning them means unlearning MNIST.
    feedback = collect_feedback(tmp_path / "feedback", (0, 0), 1, monkeypatch)
    exported = tmp_path / "feedback.npz"
    write_npz(FeedbackStore(feedback).records(), exported)  # retraining also reads an export
    before = {p.name: p.read_bytes() for p in models_dir.iterdir()}
    result = retrain(models_dir, exported)

    assert not result["promoted"], result
    assert "not promoted" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in models_dir.iterdir()} == before  # nothing replaced

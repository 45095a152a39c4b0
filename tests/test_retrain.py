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

from feedback_helpers import digits, line_drawing, line_sample, text_reader
from helpers import FIXTURES, load_unipen_lines_sample, load_unipen_sample
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


def seeded_service(directory: Path, seed: int, monkeypatch) -> FeedbackService:
    """The real service, whose record ids are drawn from a seeded generator, so that the held-out part
    (chosen by id) is the same in every run."""
    rng = random.Random(seed)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4))
    return FeedbackService(FeedbackStore(directory))


def collect_feedback(directory: Path, slant: tuple[float, float], shift: int, monkeypatch) -> Path:
    """Submit feedback on real digits through the real service; labels are shifted by ``shift``."""
    model = digits()
    service = seeded_service(directory, shift, monkeypatch)
    images = real_digits(slant)
    for (image, y), prediction in zip(images, model.predict_batch([x for x, _ in images]), strict=True):
        label = model.labels[(y + shift) % 10]
        correct = prediction.label == label
        service.submit(model.name, model.sha256, model.labels, prediction, correct, label, image)
    service.close()
    return directory


def copy_model(tmp_path: Path, name: str) -> Path:
    """A models folder holding a copy of the committed model ``name``, for retraining to replace."""
    out = tmp_path / "models"
    out.mkdir()
    for suffix in (".tflite", ".json", ".weights.npz"):
        shutil.copy(MODELS / f"{name}{suffix}", out / f"{name}{suffix}")
    return out


@pytest.fixture
def models_dir(tmp_path) -> Path:
    return copy_model(tmp_path, "digits")


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


# -- the line model ------------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def shifted(text: str) -> str:
    """Every character one further along the alphabet (spaces kept): a deliberately wrong text."""
    return "".join(c if c == " " else ALPHABET[(ALPHABET.index(c) + 1) % len(ALPHABET)] for c in text)


def collect_line_feedback(directory: Path, slant: tuple[float, float], wrong: bool, monkeypatch) -> Path:
    """Feedback on the fixture's real lines (three drawings of each, 180 in all) through the real
    service, read by the served TextReader: the true texts, or with ``wrong`` every text shifted."""
    service = seeded_service(directory, int(wrong), monkeypatch)
    lean = np.random.default_rng(0)
    for draw in range(3):
        for k in range(len(load_unipen_lines_sample())):
            drawing, text = line_drawing(k, lean.uniform(*slant), seed=1000 * draw + k)
            text = shifted(text) if wrong else text
            name = "digits" if text.replace(" ", "").isdigit() else "characters"
            reader = text_reader(name)
            reading = reader.read(drawing)
            service.submit_line(name, reader.sha256, reading, reading.text == text, text, drawing)
    service.close()
    return directory


@pytest.fixture
def lines_dir(tmp_path) -> Path:
    return copy_model(tmp_path, "lines")


def retrain_lines(models_dir: Path, feedback: Path) -> dict:
    from training.retrain import main

    return main(["lines", "--feedback", str(feedback), "--models-dir", str(models_dir), "--epochs", "2",
                 "--base-lines", str(FIXTURES / "unipen_lines_sample.jsonl.gz")])


def test_line_feedback_in_a_slanted_hand_is_promoted(lines_dir, tmp_path, capsys, monkeypatch):
    # Lines leaning 40-50 degrees, which the line model reads poorly (CER about 60% against 20%).
    feedback = collect_line_feedback(tmp_path / "feedback", (0.8, 1.2), False, monkeypatch)
    before = json.loads((lines_dir / "lines.json").read_text())
    weights = (lines_dir / "lines.weights.npz").read_bytes()
    result = retrain_lines(lines_dir, feedback)

    assert result["promoted"], result["reason"]
    assert result["new"]["feedback"] < result["old"]["feedback"]
    assert result["new"]["base"] - result["old"]["base"] <= result["tolerance_points"] / 100
    table = capsys.readouterr().out
    assert "CER" in table and "base test (n=30)" in table and "held-out feedback" in table
    assert "PROMOTED" in table

    after = json.loads((lines_dir / "lines.json").read_text())
    content = (lines_dir / "lines.tflite").read_bytes()
    assert after["sha256"] == hashlib.sha256(content).hexdigest() != before["sha256"]
    assert after["size_bytes"] == len(content)
    (entry,) = after["retraining"]
    stored = {r.id for r in FeedbackStore(feedback).records()}
    assert set(entry["feedback_ids"]["train"]) | set(entry["feedback_ids"]["held_out"]) == stored
    assert not set(entry["feedback_ids"]["train"]) & set(entry["feedback_ids"]["held_out"])
    assert entry["previous_sha256"] == before["sha256"]
    with np.load(lines_dir / "lines.weights.npz") as new_weights:
        assert new_weights["arr_0"].dtype == np.float16
    assert (lines_dir / "lines.weights.npz").read_bytes() != weights

    from recognizer.text_reader import TextReader

    assert TextReader.load("digits", lines_dir).sha256 == after["sha256"]  # the app can serve it


def test_line_feedback_with_wrong_texts_is_refused(lines_dir, tmp_path, capsys, monkeypatch):
    feedback = collect_line_feedback(tmp_path / "feedback", (0, 0), True, monkeypatch)
    exported = tmp_path / "lines.npz"
    write_npz(FeedbackStore(feedback).records(), exported, "lines")  # retraining also reads an export
    before = {p.name: p.read_bytes() for p in lines_dir.iterdir()}
    result = retrain_lines(lines_dir, exported)

    assert not result["promoted"], result
    # Refused whichever way the wrong texts show: learnt, they cost the base test; not learnt, they
    # leave the held-out feedback no better.
    assert result["reason"].startswith(("worse on the base test", "not better on the held-out feedback"))
    assert "not promoted" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in lines_dir.iterdir()} == before  # nothing replaced


def test_line_retraining_without_base_data_says_what_to_give(lines_dir, tmp_path, monkeypatch):
    from training.retrain import main

    service = seeded_service(tmp_path / "feedback", 2, monkeypatch)
    for k in range(8):
        reading, drawing, text = line_sample(k, "characters")
        service.submit_line("characters", "sha", reading, reading.text == text, text, drawing)
    service.close()
    missing = [str(tmp_path / "unipen_words_dev.jsonl.gz"), str(tmp_path / "unipen_dev.jsonl.gz")]
    with pytest.raises(SystemExit, match="base data not found.*--words and --characters.*--base-lines"):
        main(["lines", "--feedback", str(tmp_path / "feedback"), "--models-dir", str(lines_dir),
              "--held-out-share", "0.5", "--words", missing[0], "--characters", missing[1]])

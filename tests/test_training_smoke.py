"""Train one epoch on a few hundred real MNIST digits, export int8, and serve the result.

Proves that the whole pipeline, training -> export -> Recognizer, produces a
working model file; it says nothing about accuracy (the committed models do).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import load_mnist_sample
from recognizer import Recognizer

REPO = Path(__file__).resolve().parent.parent
pytest.importorskip("tensorflow", reason="training needs requirements-train.txt")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def train_tiny(tmp_path: Path, n_train: int, n_test: int, *extra: str) -> tuple[Path, dict]:
    """Write a small MNIST folder (IDX files) from the fixture and train one epoch on it."""
    x, y = load_mnist_sample()
    data = tmp_path / "mnist"
    data.mkdir(parents=True)
    test = slice(n_train, n_train + n_test)
    write_idx(data / "train-images-idx3-ubyte.gz", x[:n_train])
    write_idx(data / "train-labels-idx1-ubyte.gz", y[:n_train])
    write_idx(data / "t10k-images-idx3-ubyte.gz", x[test])
    write_idx(data / "t10k-labels-idx1-ubyte.gz", y[test])
    run = tmp_path / "run"
    env = {"HWR_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = ["training.train", "digits", "--data-dir", str(data), "--epochs", "1", "--out", str(run)]
    subprocess.run([sys.executable, "-m", *command, *extra], cwd=REPO, env=env, check=True)
    return run, env


def test_train_export_and_serve_a_tiny_digits_model(tmp_path):
    run, env = train_tiny(tmp_path, 400, 100, "--limit", "400", "--pens", "0.25")
    models = tmp_path / "models"
    report = json.loads((run / "report.json").read_text())
    assert report["epochs"] == 1 and report["test"]["n"] == 100 and len(report["curves"]["loss"]) == 1
    assert report["args"]["pens"] == 0.25 and report["data"]["mnist"]["test"] == 100

    subprocess.run([sys.executable, "-m", "export", "digits", "--run", str(run), "--out", str(models),
                    "--max-drop", "100"], cwd=REPO, env=env, check=True)
    meta = json.loads((models / "digits.json").read_text())
    assert meta["labels"] == list("0123456789")
    assert set(meta["accuracy"]) >= {"float", "int8"} and meta["training"]["command"].startswith("python -m")
    assert (models / "digits_confusion.png").exists() and (models / "digits.weights.npz").exists()

    rec = Recognizer.load(str(models / "digits.tflite"))
    assert rec.sha256 == meta["sha256"]
    assert rec._interpreter(1).get_input_details()[0]["dtype"] == np.int8
    x, _ = load_mnist_sample()
    p = rec.predict(x[450])
    assert p.label in rec.labels and 0 <= p.confidence <= 1


def test_export_refuses_an_int8_model_that_lost_accuracy(tmp_path):
    """The parity gate: int8 must be 50 points better than float to pass a limit of -50, so the
    export is refused."""
    run, env = train_tiny(tmp_path, 200, 60)
    out = subprocess.run([sys.executable, "-m", "export", "digits", "--run", str(run),
                          "--out", str(tmp_path / "models"), "--max-drop", "-50"],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "not exported" in out.stderr
    assert not (tmp_path / "models" / "digits.tflite").exists()


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    """``--init-weights`` loads a trained model: with a learning rate of almost zero, the
    fine-tuned model's convolution kernels are still the ones it was given."""
    import keras

    from export.float_model import save_float_weights

    run, _ = train_tiny(tmp_path, 200, 60, "--seed", "1")
    weights = tmp_path / "digits.weights.npz"
    save_float_weights(keras.saving.load_model(run / "model.keras"), weights)

    tuned, _ = train_tiny(tmp_path / "again", 200, 60, "--lr", "1e-9", "--init-weights", str(weights))
    kernels = [w for w in keras.saving.load_model(tuned / "model.keras").weights if "kernel" in w.path]
    with np.load(weights) as given:
        given_kernels = [given[k] for k in given.files if given[k].ndim >= 2]
    assert len(kernels) == len(given_kernels) >= 7
    for w, g in zip(kernels, given_kernels):
        np.testing.assert_allclose(np.asarray(w), g, atol=1e-5)

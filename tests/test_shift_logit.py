"""training/shift_logit.py: lowering one class's logit, with the shift chosen on validation data."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from training.shift_logit import best_shift


def _log_probs(rows: list[list[float]]) -> np.ndarray:
    p = np.asarray(rows, dtype=np.float64)
    return np.log(p / p.sum(1, keepdims=True))


def test_the_chosen_shift_fixes_the_confusion_without_costing_the_other_source():
    # Columns: 0 is "1", 1 is "7". Source "mnist": two sevens read as ones by a small margin.
    mnist = (_log_probs([[0.55, 0.45], [0.52, 0.48], [0.1, 0.9]]), np.array([1, 1, 1]))
    # Source "pen": two ones, one of them doubtful (log odds 1.1), which a shift of 3 loses.
    pen = (_log_probs([[0.95, 0.05], [0.75, 0.25]]), np.array([0, 0]))
    chosen, scores = best_shift({"mnist": mnist, "pen": pen}, column=0, grid=[0, 0.5, 1, 3])
    assert scores[0] == {"mnist": pytest.approx(1 / 3), "pen": 1.0}
    assert scores[0.5]["mnist"] == 1.0 and scores[0.5]["pen"] == 1.0
    assert scores[3] == {"mnist": 1.0, "pen": 0.0}
    assert chosen == 0.5  # 1.0 scores the same: ties go to the smaller shift


def test_no_shift_is_chosen_when_none_helps():
    clear = (_log_probs([[0.9, 0.1], [0.1, 0.9]]), np.array([0, 1]))
    chosen, _ = best_shift({"only": clear}, column=0, grid=[2, 0, 1])
    assert chosen == 0


def test_the_shift_lands_in_the_softmax_bias_of_a_trained_model(tmp_path):
    keras = pytest.importorskip("keras", reason="training needs requirements-train.txt")
    from test_training_smoke import REPO, train_tiny

    run, env = train_tiny(tmp_path, 300, 60, "--limit", "300")
    out = tmp_path / "shifted"
    done = subprocess.run(
        [sys.executable, "-m", "training.shift_logit", str(run), "--label", "1", "--grid", "0,0.5,40",
         "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )
    report = json.loads((out / "report.json").read_text())
    shift = report["logit_shift"]
    assert shift["label"] == "1" and -shift["shift"] in (0, 0.5, 40) and "<- chosen" in done.stdout
    assert (out / "run_command.txt").read_text().strip().endswith("--out " + str(out))
    before = keras.saving.load_model(run / "model.keras").layers[-1].get_weights()
    after = keras.saving.load_model(out / "model.keras").layers[-1].get_weights()
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_allclose(after[1] - before[1], np.eye(10)[1] * shift["shift"], atol=1e-6)

"""Lower one class's logit in a trained model, choosing how far on the validation sets.

    python -m training.shift_logit runs/digits-nwide-rec --label 1 --out runs/digits-nwide-rec-1

Why: the digits model learns from MNIST and from UniPen pen drawings, and many
UniPen writers put a long flag on their ones. The model then reads some of
MNIST's narrow American sevens, whose top bar is short, as ones. Lowering the
logit of "1" moves that boundary back. The shift goes into the bias of the
final softmax layer, so the model keeps its size, speed and int8 export.

Every shift in ``--grid`` is scored on each source's validation part (never
the test part); the chosen one has the best mean of the per-source
accuracies, so MNIST and pen drawings count alike. Ties go to the smaller shift.
The output folder is a run like any other: ``python -m export <task> --run <out>``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.shift_logit", description=__doc__.split("\n")[0])
    p.add_argument("run", help="training output folder (model.keras, report.json)")
    p.add_argument("--label", required=True, help="the class whose logit is lowered, e.g. 1")
    p.add_argument("--grid", default="0,0.25,0.5,0.75,1,1.25,1.5,2,3", help="shifts to try")
    p.add_argument("--out", required=True, help="output folder")
    return p.parse_args(argv)


def best_shift(
    log_probs: dict[str, tuple[np.ndarray, np.ndarray]], column: int, grid: list[float]
) -> tuple[float, dict[float, dict[str, float]]]:
    """The shift with the best mean per-source accuracy, and every shift's scores.

    ``log_probs`` maps a source name to (log probabilities (N, classes), true labels (N,)).
    """
    scores = {}
    for shift in sorted(grid):
        scores[shift] = {}
        for name, (lp, y) in log_probs.items():
            shifted = lp.copy()
            shifted[:, column] -= shift
            scores[shift][name] = float(np.mean(shifted.argmax(1) == y))
    chosen = max(scores, key=lambda s: (round(np.mean(list(scores[s].values())), 9), -s))
    return chosen, scores


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from training.datasets import load_task, source_parts

    run, out = Path(args.run), Path(args.out)
    report = json.loads((run / "report.json").read_text())
    targs = report["args"]
    if args.label not in report["labels"]:
        raise SystemExit(f"--label {args.label!r} is not one of {report['labels']}")
    column = report["labels"].index(args.label)
    data = load_task(report["task"], targs["sources"], targs["data_dir"], targs["emnist_zip"],
                     targs["limit"], targs["seed"])
    model = keras.saving.load_model(run / "model.keras")
    head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense) or head.activation is not keras.activations.softmax:
        raise SystemExit("the model must end in a Dense softmax layer")

    probs = model.predict(data.val.x[..., None].astype(np.float32) / 255.0, batch_size=1024, verbose=0)
    parts = source_parts(data, "val")
    log_probs = {name: (np.log(probs[part] + 1e-12), data.val.y[part]) for name, part in parts.items()}
    grid = [float(g) for g in args.grid.split(",")]
    chosen, scores = best_shift(log_probs, column, grid)
    for shift, by_source in scores.items():
        mark = "  <- chosen" if shift == chosen else ""
        print(f"shift {shift:5.2f}: " + "  ".join(f"{k} {v:.4f}" for k, v in by_source.items()) + mark)

    weights, bias = head.get_weights()
    bias = bias.copy()
    bias[column] -= chosen
    head.set_weights([weights, bias])
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.keras")
    command = "python -m training.shift_logit " + shlex.join(sys.argv[1:] if argv is None else argv)
    report["logit_shift"] = {
        "label": args.label,
        "shift": -chosen,
        "validation_accuracy": {str(k): v for k, v in scores.items()},
        "command": command,
        "from_run": str(run),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    shutil.copy(run / "config.json", out / "config.json")
    (out / "run_command.txt").write_text((run / "run_command.txt").read_text() + command + "\n")
    return report["logit_shift"]


if __name__ == "__main__":
    main()

"""Print the full model table of docs/evaluation.md from models/*.json, so that every figure in it
is a measured one (the README's compact table quotes a few of its columns).

    python -m export.model_card
"""

from __future__ import annotations

import json
from pathlib import Path

MODELS = Path(__file__).resolve().parent.parent / "models"


KINDS = {
    "sketch": "sketch (exact / case-insens.)",
    "scan": "scan (exact / case-insens.)",
    "photo": "photo, uneven light",
    "desk": "photo of a sheet on a desk",
    "dust": "scan with dust on it",
    "lined": "photo on ruled or squared paper",
    "faint": "faint ink (pencil), grainy photo",
    "shadow": "photo with a shadow's edge across it",
    "form": "in a box or on a line of a form",
    "clutter": "sheet on a grained desk, pen or coin beside it",
    "pencil_shadow": "faint pencil, a shadow's edge across it",
}
"""The kinds of input of ``python -m training.evaluate``, in the table's order, with their column titles."""
COLUMNS = ["model", "classes", "arch", "size", "test set", "float", "int8", "int8 case-insens.",
           *KINDS.values()]


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}%"


def table(models_dir: Path = MODELS) -> str:
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name in ("digits", "letters", "characters"):
        path = models_dir / f"{name}.json"
        if not path.exists():
            continue
        m = json.loads(path.read_text())
        acc, ev = m["accuracy"], m.get("held_out_evaluation", {})
        by_source = "<br>".join(
            f"{src}: {pct(r['accuracy'])} / {pct(r['case_insensitive_accuracy'])} (n={r['n']})"
            for src, r in acc["int8_by_source"].items()
        )
        held_out = "".join(
            f"| {pct(r.get('accuracy'))} / {pct(r.get('case_insensitive'))} (n={r['n']}) "
            for r in (ev.get(kind, {"n": 0}) for kind in KINDS)
        )
        rows.append(
            f"| **{name}** | {len(m['labels'])} | {m['arch']} | {m['size_bytes'] // 1024} KB | {by_source} "
            f"| {pct(acc['float']['accuracy'])} | {pct(acc['int8']['accuracy'])} "
            f"| {pct(acc['int8']['case_insensitive_accuracy'])} {held_out}|"
        )
    rows.append("")
    for name in ("digits", "letters", "characters"):
        path = models_dir / f"{name}.json"
        if path.exists():
            m = json.loads(path.read_text())
            steps = m.get("training_chain") or [m["training"]["command"], m["export_command"]]
            rows.append(f"- {name}: " + " then ".join(f"`{step}`" for step in steps)
                        + (f", evaluated with `{m['held_out_evaluation']['command']}`"
                           if "held_out_evaluation" in m else ""))
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())

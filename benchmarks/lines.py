"""Reading a line: ``TextReader.read`` on a 10-character line, stage by stage, beside the column-cut baseline.

    python -m benchmarks.lines              # prints the figures (JSON and the Markdown section)
    python -m benchmarks.lines --write      # and puts them in benchmarks/results.md and results.json

``python -m benchmarks`` runs it too. Issue 26's target: reading a 10-character line end to end (decode,
preprocess, infer, CTC decode) has a p50 of at most 15 ms on 2 cores. The line is the fixture's "nature
love" (tests/fixtures/unipen_lines_sample.jsonl.gz: real pen strokes by a test writer), drawn as
``training.evaluate_lines`` draws it: on a 1200x400 sketchpad, and as a photo of dark ink on paper.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.process import ROOT
from benchmarks.timing import end_to_end, staged_latency
from recognizer import Recognizer, TextReader
from recognizer.feedback.record import encode_png
from recognizer.preprocess.ink import ink_map
from recognizer.preprocess.text_line import line_from_ink
from recognizer.text_decode import best_path
from recognizer.text_reader import _picture

TEXT = "nature love"
"""The fixture's line that is read: ten letters and a space."""
NAME = "characters"
"""The reader (and the single-character model of the column cut): all 62 characters."""
SEED = 2
"""The draw of brush, size and place for the sketch, and of paper and light for the photo."""
TARGET_MS = 15.0
STAGES = ("decode", "preprocess", "inference", "ctc_decode")
REPS, QUICK_REPS = 200, 30

TITLES = {
    "canvas_png_1200x400": "1200x400 canvas PNG (bytes: the sketchpad's composite, as a browser exports it)",
    "sketchpad_1200x400_pngs": "1200x400 sketchpad value as the app's sketchpad sends it (3 PNGs)",
    "photo_jpeg_1200x400": "1200x400 JPEG photo of dark ink on paper",
}


def line_inputs() -> dict[str, Any]:
    """The line as the benchmark reads it, in each form of TITLES."""
    from tests.helpers import load_unipen_lines_sample
    from training.data.text_lines import Line
    from training.evaluate_lines import photo, sketch

    row = next(r for r in load_unipen_lines_sample() if r["text"] == TEXT)
    line = Line.from_row(row)
    value = sketch(line, np.random.default_rng(SEED))
    parts = {"background": value["background"], "layers": value["layers"][0], "composite": value["composite"]}
    pngs = {name: encode_png(part) for name, part in parts.items()}
    return {
        "canvas_png_1200x400": pngs["composite"],
        "sketchpad_1200x400_pngs": {"background": pngs["background"], "layers": [pngs["layers"]],
                                    "composite": pngs["composite"]},
        "photo_jpeg_1200x400": photo(line, np.random.default_rng(SEED)),
    }


def reader_stages(reader: TextReader) -> list[Callable[[Any], Any]]:
    """TextReader.read cut at its seams: the picture, the line image, the model's scores, the text."""
    return [
        lambda value: _picture(value)[0],
        lambda picture: line_from_ink(ink_map(picture)).image,
        reader.logits,
        lambda logits: best_path(logits, reader.alphabet, reader.allowed)[0],
    ]


def benchmark(reps: int = REPS, models_dir: Path | None = None) -> dict:
    """For each input: the reader's stages, ``read`` end to end, and the column cut end to end."""
    from training.column_cut import read_by_columns

    reader = TextReader.load(NAME, models_dir)
    single = Recognizer.load(NAME, models_dir)
    out: dict = {"line": TEXT, "reader": NAME, "model_sha256": reader.sha256[:12], "reps": reps,
                 "cores": os.cpu_count(), "load_start": os.getloadavg()[0], "inputs": {}}
    for name, value in line_inputs().items():
        read = reader.read(value)
        out["inputs"][name] = {
            "bytes": _size(value),
            "read_as": read.text,
            "column_cut_read_as": read_by_columns(single, value),
            "stages": staged_latency(reader_stages(reader), value, reps, names=STAGES),
            "read": end_to_end(lambda value=value: reader.read(value), reps),
            "column_cut": end_to_end(lambda value=value: read_by_columns(single, value), reps),
        }
        row = out["inputs"][name]
        row["column_cut_over_read"] = row["column_cut"]["p50"] / row["read"]["p50"]
    out["load_end"] = os.getloadavg()[0]
    return out


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(v[0] if isinstance(v, list) else v) for v in value.values())
    return len(value)


def targets(lines: dict | None) -> list[dict]:
    """Issue 26's target, for each input (the report's Targets table)."""
    if not lines:
        return []
    return [
        {"target": f"read a 10-character line, {TITLES[name].split(' (')[0]}: "
                   f"p50 <= {TARGET_MS:.0f} ms end to end",
         "measured": f"{row['read']['p50']:.1f} ms (CPU time: {row['read']['cpu_mean']:.1f} ms)",
         "met": row["read"]["p50"] <= TARGET_MS}
        for name, row in lines["inputs"].items()
    ]


START, END = "<!-- lines:start -->", "<!-- lines:end -->"


def section(lines: dict | None) -> list[str]:
    """The Markdown section of results.md, between markers that ``--write`` finds again."""
    if not lines:
        return []

    def ms(stats: dict, key: str = "p50") -> str:
        return f"{stats[key]:.2f}" if stats[key] < 10 else f"{stats[key]:.1f}"

    rows = []
    for name, row in lines["inputs"].items():
        st = row["stages"]
        rows.append([TITLES[name], *[f"{ms(st[s])} / {ms(st[s], 'p95')}" for s in STAGES],
                     f"**{ms(row['read'])}** / {ms(row['read'], 'p95')}", ms(row["read"], "cpu_mean"),
                     f"{ms(row['column_cut'])} / {ms(row['column_cut'], 'p95')}",
                     f"{row['column_cut_over_read']:.1f}x",
                     f"`{row['read_as']}` / `{row['column_cut_read_as']}`"])
    header = ["input", "decode", "preprocess", "inference", "CTC decode", "`read` end to end", "CPU, mean",
              "column cut end to end", "column cut / `read`", "read as (line model / column cut)"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return [
        START,
        "## Reading a line (ms, p50 / p95)",
        "",
        f"`TextReader.load(\"{lines['reader']}\").read` (line model {lines['model_sha256']}) on the "
        f"10-character line \"{lines['line']}\" (real strokes by a test writer, "
        f"tests/fixtures/unipen_lines_sample.jsonl.gz), {lines['reps']} repetitions after a warm-up, on "
        f"{lines['cores']} cores (load average {lines['load_start']:.1f} at the start, "
        f"{lines['load_end']:.1f} at the end). Beside it, the column-cut baseline "
        "(`training/column_cut.py`: the ink cut at empty columns, each piece read by the "
        f"single-character `{lines['reader']}` model) on the same pictures. Target: `read` p50 <= "
        f"{TARGET_MS:.0f} ms. Made by `python -m benchmarks.lines --write` or `python -m benchmarks`.",
        "",
        *table,
        "",
        END,
    ]


def write(lines: dict, folder: Path) -> None:
    """Put the section in ``folder``/results.md (replacing the last one) and the figures in results.json."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "results.md", folder / "results.json"
    text = md.read_text() if md.exists() else "# Benchmarks\n"
    block = "\n".join(section(lines)) + "\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END) + 1 :]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    md.write_text(text)
    data = json.loads(js.read_text()) if js.exists() else {}
    data["lines"] = lines
    js.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.lines", description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=REPS)
    p.add_argument("--models-dir", type=Path, help="where lines.tflite is (default: models/)")
    p.add_argument("--write", action="store_true", help="into benchmarks/results.md and results.json")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks", help="the folder --write writes into")
    args = p.parse_args(argv)
    lines = benchmark(args.reps, args.models_dir)
    print(json.dumps(lines, indent=2))
    print("\n".join(section(lines)), file=sys.stderr)
    if args.write:
        write(lines, args.out)
    return lines


if __name__ == "__main__":
    main()

"""Command line: read characters from image files.

    python -m recognizer predict IMG... [--model digits] [--top-k 3] [--json]

Exit status 1 when any file could not be read; the others are still printed. A picture that
seems to hold more than one character is still read, and marked.
"""

from __future__ import annotations

import argparse
import json
import sys

from recognizer.errors import InvalidImageError, NoInkError
from recognizer.model import MODEL_NAMES, Recognizer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recognizer")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="read the character in each image file")
    predict.add_argument("images", nargs="+", metavar="IMG")
    predict.add_argument(
        "--model", default="digits", help=f"one of {', '.join(MODEL_NAMES)}, or a .tflite path"
    )
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("--json", action="store_true", help="one JSON object a line")
    args = parser.parse_args(argv)

    rec = Recognizer.load(args.model)
    failed = False
    for path in args.images:
        try:
            p = rec.predict(path, top_k=args.top_k)
        except (NoInkError, InvalidImageError) as e:
            failed = True
            print(json.dumps({"file": path, "error": str(e)}) if args.json else f"{path}: error: {e}")
            continue
        if args.json:
            print(
                json.dumps(
                    {
                        "file": path,
                        "label": p.label,
                        "confidence": round(p.confidence, 4),
                        "top_k": [[label, round(c, 4)] for label, c in p.top_k],
                        "several_characters": p.several_characters,
                    }
                )
            )
        else:
            guesses = ", ".join(f"{label} {c:.0%}" for label, c in p.top_k)
            several = "  [this looks like more than one character]" if p.several_characters else ""
            print(f"{path}: {p.label}  ({guesses}){several}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line for the feedback store.

    python -m recognizer.feedback export --format npz OUT [--model digits] [--dir data/feedback]
    python -m recognizer.feedback export --format npz OUT --model lines   # feedback on whole lines
    python -m recognizer.feedback export --format csv OUT
    python -m recognizer.feedback status
    python -m recognizer.feedback requeue     # send records that Sheets refused (parked) again
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from recognizer.feedback.export import write_csv, write_npz
from recognizer.feedback.record import LINE_MODEL
from recognizer.feedback.service import feedback_dir
from recognizer.feedback.store import FILENAME, FeedbackStore


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m recognizer.feedback", description=__doc__.split("\n")[0])
    p.add_argument("--dir", default=str(feedback_dir(os.environ)[0]),
                   help="feedback data folder (default $HWR_FEEDBACK_DIR, else /data/feedback when /data "
                        "exists, as on a Space with persistent storage, else ./data/feedback)")
    sub = p.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write the feedback as a training set")
    export.add_argument("out")
    export.add_argument("--format", choices=["npz", "csv"], default="npz")
    export.add_argument("--model", help="only this model's feedback (digits, letters, characters, lines); "
                                        "an npz of every model leaves lines out, as their images are wider")
    sub.add_parser("status", help="how many records are stored and how many are not yet in the sheet")
    sub.add_parser("requeue", help="put records that Sheets refused (parked) back in the outbox")
    args = p.parse_args(argv)

    if not (os.path.exists(os.path.join(args.dir, FILENAME))):
        print(f"no feedback stored in {args.dir} (set --dir or HWR_FEEDBACK_DIR)", file=sys.stderr)
        return 1
    store = FeedbackStore(args.dir)
    try:
        if args.command == "status":
            parked = store.parked()
            status = {"stored": store.count(), "pending": store.pending_count(), "parked": len(parked),
                      "path": str(store.path)}
            print(json.dumps(status))
            for record_id, reason in parked:
                print(f"parked {record_id}: {reason}")
        elif args.command == "requeue":
            n = store.unpark()
            print(f"{n} parked records are back in the outbox; the app sends them on its next sync")
        elif args.format == "npz":
            n = write_npz(store.records(args.model), args.out, args.model)
            print(f"wrote {n} records to {args.out}")
            lines = 0 if args.model else sum(1 for _ in store.records(LINE_MODEL))
            if lines:
                print(f"left out {lines} records on lines (wider images): "
                      f"export them with --model {LINE_MODEL}")
        else:
            n = write_csv(store.records(args.model), args.out)
            print(f"wrote {n} records to {args.out}")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

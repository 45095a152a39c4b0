"""The durable local store of feedback: one SQLite file, which is also the outbox for Sheets.

WAL journal with ``synchronous=FULL``: a record acknowledged by :meth:`add` is on
disk and survives a killed process or a power cut. WAL lets readers and one
writer work at once; other threads share this object's connection behind a lock,
other processes open their own and wait on SQLite's busy timeout.

Sync state per row: ``sync_attempted_at`` is set before a row is sent to Sheets
and ``synced_at`` once the send is confirmed. A row with the first and not the
second had an uncertain outcome (a timeout, a crash): it may already be in the
sheet, or land there later, so the sender waits until that send can no longer
land, then checks before it sends again. A row that Sheets refuses
on its own while other rows go through is *parked* (``parked_at``, ``park_reason``):
it stays here, is left out of the outbox so that it cannot hold up the rows
behind it, and goes back in with :meth:`FeedbackStore.unpark`
(``python -m recognizer.feedback requeue``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from recognizer.feedback.record import FeedbackRecord

FILENAME = "feedback.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    predicted TEXT NOT NULL,
    confidence REAL NOT NULL,
    top_k TEXT NOT NULL,
    correct INTEGER NOT NULL,
    correct_label TEXT NOT NULL,
    model_input_png BLOB NOT NULL,
    original_png BLOB,
    sync_attempted_at TEXT,
    synced_at TEXT,
    parked_at TEXT,
    park_reason TEXT,
    reader TEXT
);
CREATE INDEX IF NOT EXISTS feedback_pending ON feedback (model) WHERE synced_at IS NULL;
"""

ADDED_COLUMNS = {"parked_at": "TEXT", "park_reason": "TEXT", "reader": "TEXT"}
"""Columns that stores made by earlier versions lack; they are added on open."""

FIELDS = ("id", "created_at", "model", "model_sha256", "predicted", "confidence", "top_k", "correct",
          "correct_label", "model_input_png", "original_png", "reader")


OUTBOX = "synced_at IS NULL AND parked_at IS NULL"
"""The rows the Sheets sender still has to send."""


BUSY_TIMEOUT = 30.0
"""Seconds a process waits for another one's write lock before giving up."""


def _when_unlocked(statement, timeout: float = BUSY_TIMEOUT):
    """Run ``statement``, retrying while another process holds the database.

    Switching a new database to WAL needs it to itself, and SQLite answers
    "database is locked" at once, without its busy timeout, when two processes
    open a new store together (seen in CI). So we wait here instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def utc_now(seconds_ago: float = 0.0) -> str:
    """UTC now (or ``seconds_ago`` seconds ago), ISO 8601 to the millisecond: such times sort as text."""
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds")


class FeedbackStore:
    """Feedback records in ``<directory>/feedback.sqlite3``; safe across threads and processes."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / FILENAME
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        _when_unlocked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        self._db.execute("PRAGMA synchronous=FULL")
        with self._lock, self._db:
            self._db.executescript(SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(feedback)")}
            for column, kind in ADDED_COLUMNS.items():
                if column not in have:
                    try:
                        self._db.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")
                    except sqlite3.OperationalError as error:  # another process added it first
                        if "duplicate column" not in str(error):
                            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, rows: list[tuple]) -> None:
        """One transaction; BEGIN IMMEDIATE takes the write lock up front so it never deadlocks."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- records -----------------------------------------------------------------------------

    def add(self, record: FeedbackRecord) -> None:
        """Store ``record``; when this returns it is on disk."""
        values = {f: getattr(record, f) for f in FIELDS} | {"top_k": json.dumps(record.top_k),
                                                           "correct": int(record.correct)}
        self._write(f"INSERT INTO feedback ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                    [tuple(values[f] for f in FIELDS)])

    def records(self, model: str | None = None) -> Iterator[FeedbackRecord]:
        """Every record (of ``model``, if given), oldest first."""
        where, params = ("WHERE model = ?", (model,)) if model else ("", ())
        for row in self._query(f"SELECT {', '.join(FIELDS)} FROM feedback {where} ORDER BY rowid", params):
            yield _record(row)

    def count(self) -> int:
        return self._query("SELECT count(*) FROM feedback")[0][0]

    # -- outbox ------------------------------------------------------------------------------

    def pending_count(self) -> int:
        """Records waiting to be sent (parked ones are counted by :meth:`parked`)."""
        return self._query(f"SELECT count(*) FROM feedback WHERE {OUTBOX}")[0][0]

    def pending(self, limit: int, attempted_before: str | None = None) -> list[tuple[FeedbackRecord, bool]]:
        """Up to ``limit`` unsynced records of one model, oldest first, each with 'was it attempted?'.

        With ``attempted_before`` (a :func:`utc_now` time), records last attempted after it
        are left out: a send of theirs may still land (see ``SheetSync.settle``).
        """
        ready, params = OUTBOX, ()
        if attempted_before is not None:
            ready = f"{OUTBOX} AND (sync_attempted_at IS NULL OR sync_attempted_at <= ?)"
            params = (attempted_before,)
        rows = self._query(
            f"SELECT {', '.join(FIELDS)}, sync_attempted_at IS NOT NULL FROM feedback "
            f"WHERE {ready} "
            f"AND model = (SELECT model FROM feedback WHERE {ready} ORDER BY rowid LIMIT 1) "
            "ORDER BY rowid LIMIT ?",
            (*params, *params, limit),
        )
        return [(_record(row[:-1]), bool(row[-1])) for row in rows]

    def mark_attempted(self, ids: list[str]) -> None:
        self._write("UPDATE feedback SET sync_attempted_at = ? WHERE id = ?", [(utc_now(), i) for i in ids])

    def clear_attempted(self, ids: list[str]) -> None:
        """The send was refused outright, so nothing of it landed."""
        self._write("UPDATE feedback SET sync_attempted_at = NULL WHERE id = ?", [(i,) for i in ids])

    def mark_synced(self, ids: list[str]) -> None:
        self._write("UPDATE feedback SET synced_at = ? WHERE id = ?", [(utc_now(), i) for i in ids])

    def park(self, record_id: str, reason: str) -> None:
        """Take a record that Sheets refuses out of the outbox; it stays in the store."""
        self._write("UPDATE feedback SET parked_at = ?, park_reason = ? WHERE id = ?",
                    [(utc_now(), reason[:500], record_id)])

    def parked(self) -> list[tuple[str, str]]:
        """(id, reason) of every parked record, oldest first."""
        return self._query("SELECT id, park_reason FROM feedback "
                           "WHERE parked_at IS NOT NULL AND synced_at IS NULL ORDER BY rowid")

    def unpark(self, ids: list[str] | None = None) -> int:
        """Put parked records (all, or those in ``ids``) back in the outbox; returns how many."""
        chosen = [i for i, _ in self.parked()] if ids is None else ids
        self._write("UPDATE feedback SET parked_at = NULL, park_reason = NULL WHERE id = ?",
                    [(i,) for i in chosen])
        return len(chosen)


def _record(row: tuple) -> FeedbackRecord:
    values = dict(zip(FIELDS, row, strict=True))
    values["top_k"] = [(label, p) for label, p in json.loads(values["top_k"])]
    values["correct"] = bool(values["correct"])
    return FeedbackRecord(**values)

"""Copy stored feedback to a Google Sheet, in the background, exactly once.

The SQLite store is the outbox: a worker thread sends unsynced records in
batches with ``append_rows`` (one worksheet per model, created with a header row
when missing), marks them synced, and backs off on errors (exponential with
jitter, honouring Retry-After) while keeping under the Sheets quota of 60
requests a minute. A record whose earlier send had an uncertain outcome (a
timeout, a 5xx, a crash) is first looked up in the sheet's id column, so a
write that landed although it seemed to fail is never repeated.

A batch that Sheets refuses as invalid (400 or 413) is halved until the record
at fault is found; that record is parked in the store (kept, never lost, left
out of the outbox) so that the rows behind it go through. If the very next
send is refused too, the fault is the sheet's (say, it is full), not the
record's: the record goes back in the outbox and everything waits, with backoff.

Configuration (environment, e.g. Hugging Face Spaces secrets):
  GOOGLE_SERVICE_ACCOUNT_JSON  the service-account key JSON itself, or a path to it
  HWR_SHEET                    spreadsheet name (default "Handwriting-recognition"), key or URL
  HWR_SHEET_KEY                spreadsheet key (wins over HWR_SHEET)
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import gspread
import requests

from recognizer.feedback.record import COLUMNS, FeedbackRecord, as_row, b64, shrink_png
from recognizer.feedback.store import FeedbackStore, utc_now

try:
    import fcntl
except ImportError:  # Windows: one process per data folder
    fcntl = None

log = logging.getLogger(__name__)

DEFAULT_SHEET = "Handwriting-recognition"
CELL_LIMIT = 50_000
"""Google Sheets refuses a cell with more characters than this."""
IMAGE_COLUMN = COLUMNS.index("image_png_base64")
REFUSED = (400, 413)
"""Status codes with which Sheets refuses a request's content: resending it unchanged will not help."""
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{40,}")


def sheet_row(record: FeedbackRecord, limit: int = CELL_LIMIT) -> list:
    """The record's row, every cell under ``limit`` characters: a large drawing is shrunk, else left out."""
    row = as_row(record)
    image = record.original_png
    while image and len(row[IMAGE_COLUMN]) > limit:
        image = shrink_png(image)
        row[IMAGE_COLUMN] = b64(image)
    return [v[:limit] if isinstance(v, str) else v for v in row]


def credentials_from_env(environ: Mapping[str, str]) -> dict | None:
    """The service-account key from GOOGLE_SERVICE_ACCOUNT_JSON (JSON text or a path), or None."""
    value = (environ.get("GOOGLE_SERVICE_ACCOUNT_JSON") or "").strip()
    if not value:
        return None
    try:
        info = json.loads(value if value.startswith("{") else Path(value).read_text())
    except (OSError, ValueError):  # the message could quote the key: say only what is wrong
        log.warning("feedback: GOOGLE_SERVICE_ACCOUNT_JSON is neither key JSON nor a readable key file; "
                    "Google Sheets sync disabled")
        return None
    if not isinstance(info, dict) or not {"client_email", "private_key", "token_uri"} <= info.keys():
        log.warning("feedback: GOOGLE_SERVICE_ACCOUNT_JSON is not a service-account key; "
                    "Google Sheets sync disabled")
        return None
    return info


def sync_from_env(store: FeedbackStore, environ: Mapping[str, str] = os.environ) -> SheetSync | None:
    """A (not yet started) SheetSync if credentials are configured, else None; one log line either way."""
    info = credentials_from_env(environ)
    if info is None:
        if not environ.get("GOOGLE_SERVICE_ACCOUNT_JSON"):
            log.info("feedback: Google Sheets sync disabled (GOOGLE_SERVICE_ACCOUNT_JSON not set); "
                     "feedback is kept in %s", store.path)
        return None
    sheet = environ.get("HWR_SHEET_KEY") or environ.get("HWR_SHEET") or DEFAULT_SHEET
    try:
        client = gspread.service_account_from_dict(info)
    except ValueError:  # a malformed private key; its text stays out of the log
        log.warning("feedback: the service-account key in GOOGLE_SERVICE_ACCOUNT_JSON is malformed; "
                    "Google Sheets sync disabled")
        return None
    log.info("feedback: syncing to Google Sheet %r as %s (share the sheet with this address)",
             sheet, info["client_email"])
    return SheetSync(store, client, sheet)


def open_spreadsheet(client: gspread.Client, sheet: str) -> gspread.Spreadsheet:
    """Open by URL, by key (a 40+ character id) or by name."""
    if "docs.google.com" in sheet:
        return client.open_by_url(sheet)
    if KEY_PATTERN.fullmatch(sheet):
        return client.open_by_key(sheet)
    return client.open(sheet)


def retry_after(error: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After, in seconds or as a date), if it did."""
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class SheetSync:
    """A background worker that empties the store's outbox into a spreadsheet.

    Only one process per data folder sends (it holds a lock file); the others
    just store, and the sender picks up their records on its next poll.
    """

    def __init__(
        self,
        store: FeedbackStore,
        client: gspread.Client,
        sheet: str = DEFAULT_SHEET,
        *,
        batch_size: int = 200,
        max_request_chars: int = 2_000_000,
        min_interval: float = 1.0,
        timeout: float = 30.0,
        backoff_base: float = 2.0,
        backoff_max: float = 300.0,
        idle_poll: float = 30.0,
    ):
        """``min_interval`` seconds between requests keeps to 60 a minute; the backoff after the
        n-th failure in a row is ``backoff_base * 2**(n-1)`` (at most ``backoff_max``) times a
        random 0.5-1, or Retry-After if longer; ``idle_poll`` is how often an idle worker looks
        for records stored by other processes."""
        self.store = store
        self.client = client
        self.sheet = sheet
        self.batch_size = batch_size
        self.max_request_chars = max_request_chars
        self.min_interval = min_interval
        self.backoff_base, self.backoff_max = backoff_base, backoff_max
        self.idle_poll = idle_poll
        client.http_client.set_timeout(timeout)
        self.timeout = timeout
        self.last_error: str | None = None
        self.last_sync: str | None = None
        self.failures = 0
        self._batch_cap = batch_size
        self._refused_alone: str | None = None
        self._just_parked: str | None = None
        self._may_park = True
        self._spreadsheet: gspread.Spreadsheet | None = None
        self._worksheets: dict[str, gspread.Worksheet] = {}
        self._last_request = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock_file = None
        self._thread: threading.Thread | None = None

    # -- the worker --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="feedback-sheets-sync", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New records are waiting (cheap; never blocks)."""
        self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the worker to make one last attempt and stop; wait at most ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._lock_file is not None and (self._thread is None or not self._thread.is_alive()):
            self._lock_file.close()
            self._lock_file = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._holds_lock():
                self._wake.wait(self.idle_poll)
                continue
            self._wake.clear()
            try:
                more = self.sync_once()
            except Exception as e:  # noqa: BLE001 - every failure is retried later
                self._stop.wait(self._failed(e))  # new records do not cut a backoff short; stop does
                continue
            if not more:
                self._wake.wait(self.idle_poll)
        if self._holds_lock():  # one last batch before stopping
            try:
                self.sync_once()
            except Exception as e:  # noqa: BLE001
                self._failed(e)

    def _holds_lock(self) -> bool:
        """Take the data folder's sender lock if no other process holds it (kept until stop)."""
        if self._lock_file is not None or fcntl is None:
            return True
        f = open(self.store.directory / "sheets-sync.lock", "w")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._lock_file = f
        return True

    def _failed(self, error: Exception) -> float:
        """Record the error and return how long to back off."""
        self.failures += 1
        self.last_error = describe(error, self)
        log.warning("feedback: Sheets sync failed (%d in a row): %s", self.failures, self.last_error)
        if isinstance(error, gspread.exceptions.APIError) and error.code in (400, 404):
            self._forget_worksheets()
        delay = min(self.backoff_max, self.backoff_base * 2 ** (self.failures - 1)) * random.uniform(0.5, 1.0)
        return max(delay, retry_after(error) or 0.0)

    # -- one batch ---------------------------------------------------------------------------

    def sync_once(self) -> bool:
        """Send one batch of one model's pending records. Returns True if more may be waiting."""
        cap = self._batch_cap
        batch = self.store.pending(cap)
        if not batch:
            return False
        worksheet = self._worksheet(batch[0][0].model)
        records = [record for record, _ in batch]
        if any(attempted for _, attempted in batch):  # an earlier send may have landed: look first
            present = set(self._request(worksheet.col_values, 1))
            self.store.mark_synced([r.id for r in records if r.id in present])
            records = [r for r in records if r.id not in present]
        rows, size = [], 0
        for record in records:
            row = sheet_row(record)
            size += sum(len(v) for v in row if isinstance(v, str))
            if rows and size > self.max_request_chars:
                break
            rows.append(row)
        ids = [row[0] for row in rows]
        if ids:
            self.store.mark_attempted(ids)
            try:
                self._request(worksheet.append_rows, rows, value_input_option="RAW",
                              insert_data_option="INSERT_ROWS", table_range="A1")
            except gspread.exceptions.APIError as e:
                if 400 <= e.code < 500 and e.code != 408:  # refused outright: nothing landed
                    self.store.clear_attempted(ids)
                if e.code in REFUSED and self._isolate(ids, e):
                    return True
                raise
            self.store.mark_synced(ids)
        self.failures, self.last_error, self.last_sync = 0, None, utc_now()
        self._batch_cap = min(self.batch_size, self._batch_cap * 2)
        self._refused_alone = self._just_parked = None
        self._may_park = True
        return len(batch) == cap or len(rows) < len(records)

    def _isolate(self, ids: list[str], error: gspread.exceptions.APIError) -> bool:
        """Narrow down a refused send to the record at fault and park it.

        Returns True when it took a step (halved the batch, parked or unparked a
        record) and the next send can follow at once; False to back off as usual.
        """
        self.last_error = describe(error, self)
        self._forget_worksheets()  # the next send looks the worksheet up afresh
        if self._just_parked is not None:  # refused again at once: the sheet refuses everything
            self.store.unpark([self._just_parked])
            log.warning("feedback: Sheets refuses every row, not one record: %s", self.last_error)
            self._just_parked, self._may_park = None, False
            return False
        if len(ids) > 1:
            self._batch_cap = max(1, len(ids) // 2)
            return True
        if not self._may_park or self._refused_alone != ids[0]:
            self._refused_alone = ids[0]  # once more, alone, before parking it
            return False
        self.store.park(ids[0], self.last_error)
        log.warning("feedback: Sheets refused record %s twice on its own; it is kept locally and parked "
                    "(python -m recognizer.feedback requeue sends it again): %s", ids[0], self.last_error)
        self._just_parked, self._refused_alone = ids[0], None
        return True

    def _forget_worksheets(self) -> None:
        """Look the spreadsheet and worksheets up again next time: one may have been deleted."""
        self._worksheets.clear()
        self._spreadsheet = None

    def _worksheet(self, model: str) -> gspread.Worksheet:
        """The model's worksheet, created with a header row if it is missing."""
        if model in self._worksheets:
            return self._worksheets[model]
        if self._spreadsheet is None:
            self._spreadsheet = self._request(open_spreadsheet, self.client, self.sheet)
        try:
            worksheet = self._request(self._spreadsheet.worksheet, model)
        except gspread.exceptions.WorksheetNotFound:
            worksheet = self._request(self._spreadsheet.add_worksheet, model, rows=1, cols=len(COLUMNS))
            header = None
        else:
            header = self._request(worksheet.acell, "A1").value
        if not header:
            self._request(worksheet.append_rows, [COLUMNS], value_input_option="RAW", table_range="A1")
        self._worksheets[model] = worksheet
        return worksheet

    def _request(self, call, *args, **kwargs):
        """Make one API call, at least ``min_interval`` after the previous one."""
        wait = self._last_request + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return call(*args, **kwargs)
        finally:
            self._last_request = time.monotonic()


def describe(error: Exception, sync: SheetSync) -> str:
    """A one-line description of a sync failure, fit for a status page (no secrets in it)."""
    if isinstance(error, (gspread.exceptions.SpreadsheetNotFound, PermissionError)):
        email_ = getattr(sync.client.http_client.auth, "service_account_email", "the service account")
        return f"spreadsheet {sync.sheet!r} not found or not shared: share it with {email_} as an editor"
    if isinstance(error, requests.Timeout):
        return f"Google Sheets did not answer within {sync.timeout:g} s"
    if isinstance(error, requests.ConnectionError):
        return "cannot reach Google Sheets (connection failed)"
    if isinstance(error, gspread.exceptions.APIError):
        return str(error)[:300]
    return f"{type(error).__name__}: {error}"[:300]

"""Copy stored feedback to a Google Sheet, in the background, exactly once.

The SQLite store is the outbox: a worker thread sends unsynced records in
batches with ``append_rows`` (one worksheet per model, created with a header row
when missing), marks them synced, and backs off on errors (exponential with
jitter, honouring Retry-After) while keeping under the Sheets quota of 60
requests a minute.

Exactly once, even when a write lands late. A send with an uncertain outcome
(a timeout, a dropped connection, a 5xx, a crash) may have landed, or may still
land long after the client gave up: Sheets applies each request atomically and
gives up on one it has processed for 180 s. So its records are left alone for
``settle`` seconds after the attempt (default: the client timeout + 180 s + a
30 s margin; records not attempted go on being sent meanwhile), by which time
that write has landed or never will; then they are looked up in the sheet's id
column, and only the missing ones are sent again. The header is written to the
fixed range A1:K1 (a late copy writes the same cells again) and a worksheet is
created under its fixed title (a late copy is refused as a duplicate), so
neither can be doubled either.

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
import html
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
SHEETS_TIME_LIMIT = 180.0
"""Sheets gives up on a request after processing it this long (developers.google.com/sheets/api/limits)."""
SETTLE_MARGIN = 30.0
"""Added to the timeout and SHEETS_TIME_LIMIT in the default ``settle``: the request's travel and queue."""
ERROR_TEXT_LIMIT = 200
"""A failure that quotes an HTML error page is described in at most this many characters."""
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
        settle: float | None = None,
    ):
        """``min_interval`` seconds between requests keeps to 60 a minute; the backoff after the
        n-th failure in a row is ``backoff_base * 2**(n-1)`` (at most ``backoff_max``) times a
        random 0.5-1, or Retry-After if longer; ``idle_poll`` is how often an idle worker looks
        for records stored by other processes. ``settle`` is how long after a send with an
        uncertain outcome its records wait before they are looked up and sent again: it must
        be longer than a write can take to land (default ``timeout + SHEETS_TIME_LIMIT +
        SETTLE_MARGIN``, 240 s)."""
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
        self.settle = timeout + SHEETS_TIME_LIMIT + SETTLE_MARGIN if settle is None else settle
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
        if status_of(error) in (400, 404):
            self._forget_worksheets()
        delay = min(self.backoff_max, self.backoff_base * 2 ** (self.failures - 1)) * random.uniform(0.5, 1.0)
        return max(delay, retry_after(error) or 0.0)

    # -- one batch ---------------------------------------------------------------------------

    def sync_once(self) -> bool:
        """Send one batch of one model's pending records. Returns True if more may be waiting.

        Records whose last send had an uncertain outcome less than ``settle`` seconds ago
        are left out: that send may still land, and sending them again now could double them.
        """
        cap = self._batch_cap
        batch = self.store.pending(cap, attempted_before=utc_now(self.settle))
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
                code = status_of(e) or 0
                if 400 <= code < 500 and code != 408:  # refused outright: nothing landed, nothing will
                    self.store.clear_attempted(ids)
                if code in REFUSED and self._isolate(ids, e):
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

    def _worksheet(self, title: str, header: list[str] = COLUMNS) -> gspread.Worksheet:
        """The worksheet ``title``, created with ``header`` as its first row if it is missing.

        Both steps can be repeated safely after a write that lands late: a second
        ``addSheet`` of the same title is refused, and the header goes to the fixed
        range A1:<last column>1, never appended.
        """
        if title in self._worksheets:
            return self._worksheets[title]
        if self._spreadsheet is None:
            self._spreadsheet = self._request(open_spreadsheet, self.client, self.sheet)
        try:
            worksheet = self._request(self._spreadsheet.worksheet, title)
        except gspread.exceptions.WorksheetNotFound:
            try:
                worksheet = self._request(self._spreadsheet.add_worksheet, title, rows=1, cols=len(header))
            except gspread.exceptions.APIError as e:  # an earlier try, thought lost, created it meanwhile
                if status_of(e) != 400:
                    raise
                try:
                    worksheet = self._request(self._spreadsheet.worksheet, title)
                except gspread.exceptions.WorksheetNotFound:
                    raise e from None
            header_present = False
        else:
            header_present = bool(self._request(worksheet.acell, "A1").value)
        if not header_present:
            cells = f"A1:{gspread.utils.rowcol_to_a1(1, len(header))}"
            self._request(worksheet.update, [header], cells, value_input_option="RAW")
        self._worksheets[title] = worksheet
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


def status_of(error: Exception) -> int | None:
    """The HTTP status of a failed request: gspread says -1 when the answer was not Google's JSON error."""
    if not isinstance(error, gspread.exceptions.APIError):
        return None
    if error.code in (-1, None) and getattr(error, "response", None) is not None:
        return error.response.status_code
    return error.code


HTML_START = re.compile(r"\s*<(!doctype\s+html|html|head|body|title)\b", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    return bool(HTML_START.match(text)) or "</html>" in text.lower()


def html_summary(page: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    """The gist of an HTML error page: its <title> and the start of its text, at most ``limit`` characters."""
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    body = re.sub(r"<(script|style|title|head)\b.*?</\1\s*>", " ", page, flags=re.IGNORECASE | re.DOTALL)
    body = re.sub(r"<!--.*?-->|<[^>]*>", " ", body, flags=re.DOTALL)
    parts = [html.unescape(" ".join(p.split())) for p in (title.group(1) if title else "", body)]
    text = ": ".join(p for p in parts if p) or "an HTML page"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe(error: Exception, sync: SheetSync) -> str:
    """A one-line description of a sync failure, fit for a status page (no secrets, no HTML page in it)."""
    if isinstance(error, (gspread.exceptions.SpreadsheetNotFound, PermissionError)):
        email_ = getattr(sync.client.http_client.auth, "service_account_email", "the service account")
        return f"spreadsheet {sync.sheet!r} not found or not shared: share it with {email_} as an editor"
    if isinstance(error, requests.Timeout):
        return f"Google Sheets did not answer within {sync.timeout:g} s"
    if isinstance(error, requests.ConnectionError):
        return "cannot reach Google Sheets (connection failed)"
    if isinstance(error, gspread.exceptions.APIError):
        message = str(error.error.get("message", ""))
        if looks_like_html(message):
            head = f"HTTP {status_of(error)} from Google Sheets, an error page: "
            return head + html_summary(message, ERROR_TEXT_LIMIT - len(head))
        return str(error)[:300]
    text = f"{type(error).__name__}: {error}"
    html_at = re.search(r"<(!doctype\s+html|html)\b", text, re.IGNORECASE)
    if html_at:  # an HTML page quoted inside another message (an OAuth error, say)
        head = text[: min(html_at.start(), ERROR_TEXT_LIMIT // 2)].rstrip() + " "
        return head + html_summary(text[html_at.start():], ERROR_TEXT_LIMIT - len(head))
    return text[:300]

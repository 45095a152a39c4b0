"""A fake Google Sheets: Sheets v4, Drive v3 and the OAuth token endpoint, served over real HTTP on loopback.

gspread's real client talks to it unchanged: the service-account key is a
well-formed key with a freshly generated RSA key, its ``token_uri`` points here,
and a requests adapter on the client's session sends the https://*.googleapis.com
calls to this server. The fake checks the signed JWT like Google does, keeps
worksheets as lists of rows, logs every request, and injects faults on demand:

    fake = FakeSheets().start()
    fake.add_spreadsheet("Handwriting-recognition")
    client = fake.client()                      # a gspread.Client
    fake.policy = lambda req: Fault("status", 429, retry_after=1)

Implemented: Drive files.list (open by name), spreadsheets.get (metadata),
spreadsheets.batchUpdate (addSheet), spreadsheets.values.append, .update and .get.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import gspread
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

CELL_LIMIT = 50_000
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
"""google-auth signs for Google's token endpoint whatever token_uri says; Google checks this audience."""
CLIENT_EMAIL = "hwr-feedback@hwr-test.iam.gserviceaccount.com"


@dataclass
class Request:
    method: str
    host: str
    path: str
    params: dict[str, str]
    body: dict | None
    time: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """What to do instead of answering normally.

    kind: "status" (answer ``status`` with a Google error body, nothing applied),
    "html" (answer ``status`` with an HTML error page, as Google's front end sometimes
    does, nothing applied), "hang" (wait ``seconds`` before doing anything: the client
    times out, nothing applied), "land_then_hang" (apply the request, then wait
    ``seconds``: the client times out although the write landed), "land_late" (wait
    ``seconds``, then apply the request and answer: a client that gave up sooner saw a
    timeout, and its write lands after that, even after its resend),
    "disconnect" (close the connection unanswered, nothing applied).
    """

    kind: str
    status: int = 503
    seconds: float = 0.0
    retry_after: float | None = None


class Worksheet:
    def __init__(self, sheet_id: int, title: str, rows: int, cols: int, index: int):
        self.sheet_id, self.title, self.index = sheet_id, title, index
        self.row_count, self.col_count = rows, cols
        self.rows: list[list] = []

    def properties(self) -> dict:
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
                "gridProperties": {"rowCount": self.row_count, "columnCount": self.col_count}}


class Spreadsheet:
    def __init__(self, key: str, title: str):
        self.key, self.title = key, title
        self.sheets: dict[str, Worksheet] = {}

    def add(self, title: str, rows: int = 1000, cols: int = 26) -> Worksheet:
        ws = Worksheet(len(self.sheets) + 1000, title, rows, cols, len(self.sheets))
        self.sheets[title] = ws
        return ws


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class FakeSheets:
    """The fake service. Thread-safe; ``policy(request) -> Fault | None`` decides failures."""

    def __init__(self):
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.requests: list[Request] = []
        self.tokens: set[str] = set()
        self.policy: Callable[[Request], Fault | None] = lambda request: None
        self.lock = threading.RLock()
        self.landing = 0
        """Writes delayed by a "land_late" fault that have not landed yet."""
        self.closing = threading.Event()
        self.key_pem = private_key_pem()
        self.server: ThreadingHTTPServer | None = None

    # -- set-up ------------------------------------------------------------------------------

    def start(self) -> FakeSheets:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self)

            do_POST = do_PUT = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.closing.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def service_account_info(self) -> dict:
        """A well-formed service-account key whose token endpoint is this server."""
        return {
            "type": "service_account",
            "project_id": "hwr-test",
            "private_key_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567",
            "private_key": self.key_pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "109876543210987654321",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{self.base_url}/token",
        }

    def client(self) -> gspread.Client:
        """gspread's real client, with https://*.googleapis.com routed here."""
        client = gspread.service_account_from_dict(self.service_account_info())
        adapter = LoopbackAdapter(self.base_url)
        for host in ("https://sheets.googleapis.com/", "https://www.googleapis.com/"):
            client.http_client.session.mount(host, adapter)
        return client

    def add_spreadsheet(self, title: str, key: str = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"
                        ) -> Spreadsheet:
        with self.lock:
            self.spreadsheets[key] = Spreadsheet(key, title)
            return self.spreadsheets[key]

    def rows(self, worksheet: str) -> list[list]:
        """The rows of a worksheet (of the only spreadsheet), header included."""
        with self.lock:
            (spreadsheet,) = self.spreadsheets.values()
            return [list(r) for r in spreadsheet.sheets[worksheet].rows]

    def calls(self, method: str | None = None, contains: str = "") -> list[Request]:
        """Logged API requests (token requests excluded), filtered."""
        with self.lock:
            return [r for r in self.requests if r.path != "/token" and (method is None or r.method == method)
                    and contains in r.path]

    # -- serving -----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if url.path == "/token":
            return self._token(h, raw.decode())
        host, _, path = url.path.lstrip("/").partition("/")
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        request = Request(h.command, host, "/" + path, params, json.loads(raw) if raw else None)
        with self.lock:
            self.requests.append(request)
        if h.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            body = error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
            return self._send(h, 401, body)
        fault = self.policy(request)
        if fault and fault.kind == "disconnect":
            h.close_connection = True
            return
        if fault and fault.kind == "hang":  # long enough for the client to give up; then nothing happens
            self.closing.wait(fault.seconds)
            h.close_connection = True
            return
        if fault and fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            body = error(fault.status, "Injected failure", "UNAVAILABLE")
            return self._send(h, fault.status, body, headers)
        if fault and fault.kind == "html":
            return self._send(h, fault.status, html_error_page(fault.status))
        if fault and fault.kind == "land_late":  # the client gives up meanwhile; the write still lands
            with self.lock:
                self.landing += 1
            self.closing.wait(fault.seconds)
            with self.lock:
                status, body = self._route(request)
                self.landing -= 1
            return self._send(h, status, body)
        with self.lock:
            status, body = self._route(request)
        if fault and fault.kind == "land_then_hang":
            self.closing.wait(fault.seconds)
        self._send(h, status, body)

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: dict | str,
              headers: dict | None = None) -> None:
        html = isinstance(body, str)
        data = body.encode() if html else json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("Content-Type", f"{'text/html' if html else 'application/json'}; charset=UTF-8")
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:  # the client gave up waiting
            h.close_connection = True

    def _token(self, h: BaseHTTPRequestHandler, form: str) -> None:
        """OAuth 2 JWT-bearer grant: the assertion must be signed by the service account's key."""
        fields = {k: v[-1] for k, v in parse_qs(form).items()}
        public = serialization.load_pem_private_key(self.key_pem.encode(), None).public_key()
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        try:
            claims = jwt.decode(fields.get("assertion", ""), certs=pem, audience=GOOGLE_TOKEN_AUDIENCE)
        except ValueError as e:
            return self._send(h, 400, {"error": "invalid_grant", "error_description": str(e)})
        jwt_bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
        if fields.get("grant_type") != jwt_bearer or claims["iss"] != CLIENT_EMAIL:
            return self._send(h, 400, {"error": "invalid_grant", "error_description": "bad grant"})
        token = f"ya29.fake-{len(self.tokens)}"
        with self.lock:
            self.tokens.add(token)
        self._send(h, 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _route(self, r: Request) -> tuple[int, dict]:
        if r.host == "www.googleapis.com" and r.path == "/drive/v3/files" and r.method == "GET":
            name = re.search(r'name = "(.*?)"', r.params.get("q", ""))
            files = [{"id": s.key, "name": s.title, "createdTime": "2024-01-01T00:00:00.000Z",
                      "modifiedTime": "2024-01-01T00:00:00.000Z"}
                     for s in self.spreadsheets.values() if not name or s.title == name.group(1)]
            return 200, {"kind": "drive#fileList", "files": files}
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(:batchUpdate|/values/([^/]+?)(:append)?)?", r.path)
        if r.host != "sheets.googleapis.com" or not m:
            return 404, error(404, f"Unknown endpoint {r.method} {r.path}", "NOT_FOUND")
        spreadsheet = self.spreadsheets.get(m.group(1))
        if spreadsheet is None:
            return 404, error(404, "Requested entity was not found.", "NOT_FOUND")
        if m.group(2) is None and r.method == "GET":
            return 200, {"spreadsheetId": spreadsheet.key, "properties": {"title": spreadsheet.title},
                         "sheets": [{"properties": ws.properties()} for ws in spreadsheet.sheets.values()]}
        if m.group(2) == ":batchUpdate" and r.method == "POST":
            return self._batch_update(spreadsheet, r.body or {})
        if m.group(3) is None:
            return 404, error(404, f"Unknown endpoint {r.method} {r.path}", "NOT_FOUND")
        title, cells = parse_range(unquote(m.group(3)))
        ws = spreadsheet.sheets.get(title)
        if ws is None:
            return 400, error(400, f"Unable to parse range: {unquote(m.group(3))}", "INVALID_ARGUMENT")
        if m.group(4) and r.method == "POST":
            return self._append(spreadsheet, ws, r)
        if not m.group(4) and r.method == "PUT":
            return self._update(spreadsheet, ws, cells, r)
        if not m.group(4) and r.method == "GET":
            return 200, values_get(ws, cells, r.params)
        return 404, error(404, f"Unknown endpoint {r.method} {r.path}", "NOT_FOUND")

    def _batch_update(self, spreadsheet: Spreadsheet, body: dict) -> tuple[int, dict]:
        replies = []
        for req in body.get("requests", []):
            if "addSheet" not in req:
                return 400, error(400, f"Unsupported request {list(req)}", "INVALID_ARGUMENT")
            props = req["addSheet"]["properties"]
            if props["title"] in spreadsheet.sheets:
                return 400, error(400, f'A sheet with the name "{props["title"]}" already exists.',
                                  "INVALID_ARGUMENT")
            grid = props.get("gridProperties", {})
            ws = spreadsheet.add(props["title"], grid.get("rowCount", 1000), grid.get("columnCount", 26))
            replies.append({"addSheet": {"properties": ws.properties()}})
        return 200, {"spreadsheetId": spreadsheet.key, "replies": replies}

    def _append(self, spreadsheet: Spreadsheet, ws: Worksheet, r: Request) -> tuple[int, dict]:
        values = input_values(r)
        if isinstance(values, tuple):
            return values
        start = len(ws.rows) + 1
        ws.rows.extend([list(row) for row in values])
        ws.row_count = max(ws.row_count, len(ws.rows))
        width = max((len(row) for row in values), default=0)
        ws.col_count = max(ws.col_count, width)
        updated = f"'{ws.title}'!A{start}:{column_letter(width)}{start + len(values) - 1}"
        table = f"'{ws.title}'!A1:{column_letter(width)}1"
        return 200, {"spreadsheetId": spreadsheet.key, "tableRange": table,
                     "updates": {"spreadsheetId": spreadsheet.key, "updatedRange": updated,
                                 "updatedRows": len(values), "updatedColumns": width,
                                 "updatedCells": sum(len(row) for row in values)}}

    def _update(self, spreadsheet: Spreadsheet, ws: Worksheet, cells: str, r: Request) -> tuple[int, dict]:
        """values.update: write the values at the range's top-left cell, within the range and the grid."""
        values = input_values(r)
        if isinstance(values, tuple):
            return values
        m = re.fullmatch(r"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?", cells)
        if not m:
            return 400, error(400, f"Unable to parse range: {cells}", "INVALID_ARGUMENT")
        first_col, first_row = column_number(m.group(1)), int(m.group(2))
        width = max((len(row) for row in values), default=0)
        last_col, last_row = first_col + width - 1, first_row + len(values) - 1
        if m.group(3) and (last_col > column_number(m.group(3)) or last_row > int(m.group(4))):
            return 400, error(400, f"Requested writing within range [{cells}], but tried writing to "
                              f"row [{last_row}] column [{last_col}]", "INVALID_ARGUMENT")
        if last_row > ws.row_count or last_col > ws.col_count:  # a fixed range never grows the sheet here
            return 400, error(400, f"Range ('{ws.title}'!{cells}) exceeds grid limits. Max rows: "
                              f"{ws.row_count}, max columns: {ws.col_count}", "INVALID_ARGUMENT")
        for i, row in enumerate(values):
            while len(ws.rows) < first_row + i:
                ws.rows.append([])
            line = ws.rows[first_row + i - 1]
            line.extend([""] * (first_col - 1 + len(row) - len(line)))
            line[first_col - 1 : first_col - 1 + len(row)] = row
        updated = f"'{ws.title}'!{column_letter(first_col)}{first_row}:{column_letter(last_col)}{last_row}"
        return 200, {"spreadsheetId": spreadsheet.key, "updatedRange": updated, "updatedRows": len(values),
                     "updatedColumns": width, "updatedCells": sum(len(row) for row in values)}


class Formula(str):
    """A cell Sheets would have evaluated as a formula (only with USER_ENTERED)."""


class LoopbackAdapter(requests.adapters.HTTPAdapter):
    """Send https://<google host>/<path> to http://127.0.0.1:<port>/<google host>/<path>."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        request.url = f"{self.base_url}/{url.netloc}{url.path}" + (f"?{url.query}" if url.query else "")
        return super().send(request, **kwargs)


def input_values(r: Request) -> list[list] | tuple[int, dict]:
    """The rows a values.append or .update request writes, as Sheets stores them, or its refusal."""
    option = r.params.get("valueInputOption")
    if option not in ("RAW", "USER_ENTERED"):
        return 400, error(400, "'valueInputOption' is required but not specified", "INVALID_ARGUMENT")
    values = (r.body or {}).get("values", [])
    for row in values:
        for cell in row:
            if isinstance(cell, str) and len(cell) > CELL_LIMIT:
                return 400, error(400, f"Your input contains more than the maximum of {CELL_LIMIT} "
                                  "characters in a single cell.", "INVALID_ARGUMENT")
    if option == "USER_ENTERED":  # what Sheets would do: text starting with = becomes a formula
        values = [[Formula(c) if isinstance(c, str) and c.startswith(("=", "+", "-", "@")) else c
                   for c in row] for row in values]
    return [list(row) for row in values]


ERROR_PAGE_STYLE = "*{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}p{margin:11px 0 22px}" * 30
"""Google's error pages carry a few kilobytes of CSS before their text."""


def html_error_page(status: int) -> str:
    """An error page like the ones Google's front end answers with instead of a JSON error."""
    reason = HTTPStatus(status).phrase
    return f"""<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error {status} ({reason})!!1</title>
  <style>{ERROR_PAGE_STYLE}</style>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>{status}.</b> <ins>That&#8217;s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in
  30 seconds.  <ins>That&#8217;s all we know.</ins>
"""


def error(code: int, message: str, status: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


def column_letter(n: int) -> str:
    letters = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters or "A"


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def parse_range(a1: str) -> tuple[str, str]:
    """"'digits'!A1:A" -> ("digits", "A1:A"); a bare sheet name means the whole sheet."""
    sheet, _, cells = a1.partition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cells


def values_get(ws: Worksheet, cells: str, params: dict) -> dict:
    """spreadsheets.values.get for ranges like A1, A1:A, A1:K3, A:A (rows or columns major)."""
    m = re.fullmatch(r"([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?", cells)
    if not m:
        return {"range": cells}
    c0, r0, c1, r1 = m.groups()
    if c1 is None and r1 is None:  # a single cell
        c1, r1 = c0, r0
    first_col, last_col = column_number(c0 or "A"), column_number(c1) if c1 else ws.col_count
    first_row, last_row = int(r0 or 1), int(r1) if r1 else len(ws.rows)
    formatted = params.get("valueRenderOption", "FORMATTED_VALUE") == "FORMATTED_VALUE"
    columns = range(first_col - 1, last_col)
    grid = [[render(row[c], formatted) if c < len(row) else "" for c in columns]
            for row in ws.rows[first_row - 1 : last_row]]
    if params.get("majorDimension") == "COLUMNS":
        grid = [list(col) for col in zip(*grid, strict=True)]
    grid = [trim(line) for line in grid]
    while grid and not grid[-1]:
        grid.pop()
    body = {"range": f"'{ws.title}'!{cells}", "majorDimension": params.get("majorDimension", "ROWS")}
    if grid:
        body["values"] = grid
    return body


def render(value, formatted: bool):
    if not formatted:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def trim(line: list) -> list:
    while line and line[-1] == "":
        line = line[:-1]
    return line

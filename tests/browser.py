"""Drive the app's page in headless Chromium as a person would: write with the mouse, upload, read the result.

Shared by tests/test_browser.py and tests/screenshot.py. Uses Debian's Chromium
(``apt-get install -y chromium``) through Playwright for Python.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Sequence
from pathlib import Path

from playwright.sync_api import Browser, Playwright, Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
UNIPEN = Path(__file__).parent / "fixtures" / "unipen_sample.jsonl.gz"
UNIPEN_LINES = Path(__file__).parent / "fixtures" / "unipen_lines_sample.jsonl.gz"
VIEWPORT = {"width": 1280, "height": 1000}
BRUSH_BUTTON = "#sketchpad .toolbar-wrap > .half-container:first-child > button"
CANVAS = (1200, 400)
"""The app's canvas (width, height) in pixels (app.CANVAS)."""
ACROSS = 0.9
"""Writing across the canvas (``AppPage.draw(across=True)``) uses this share of the sketchpad's width on
screen, which the canvas fills but for a margin."""

Stroke = Sequence[tuple[float, float]]

HOLD_READS_JS = """
(() => {
  // Hold back the uploads of one reading of the drawing, as a slow network or a busy server may: after
  // window.hwrHoldReads(), the next upload to the app, and any that start within 300 ms of it (a reading
  // sends the sketchpad's background, layer and composite at once), wait until window.hwrReleaseReads().
  // window.hwrHeld counts the uploads held back.
  const fetch = window.fetch.bind(window);
  let hold = null;
  window.hwrHoldReads = () => {
    hold = {first: null};
    hold.gate = new Promise((resolve) => { hold.release = resolve; });
    window.hwrHeld = 0;
  };
  window.hwrReleaseReads = () => { hold?.release(); hold = null; };
  window.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input.url ?? String(input);
    const held = hold;
    if (held && url.includes('/gradio_api/upload')) {
      const now = performance.now();
      held.first ??= now;
      if (now - held.first < 300) {
        window.hwrHeld += 1;
        await held.gate;
      }
    }
    return fetch(input, init);
  };
})();
"""
"""An init script for :class:`AppPage` (``init_script=``)."""


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def unipen_samples() -> list[dict]:
    """The real pen trajectories of the fixture: label, writer, y_up, strokes."""
    with gzip.open(UNIPEN, "rt") as f:
        return [json.loads(line) for line in f]


def unipen_lines() -> list[dict]:
    """The fixture's real pen-written lines: set, text, writer, kind, strokes (page coordinates, y down)."""
    with gzip.open(UNIPEN_LINES, "rt") as f:
        return [json.loads(line) for line in f]


def fit_line(
    strokes: Sequence[Stroke], height: float = 0.45, width: float = 0.9, max_points: int = 24
) -> list[Stroke]:
    """Strokes (y down) in canvas units (x and y from 0 to 1 across the canvas's width and height): the ink
    ``height`` of the canvas high, or ``width`` of it wide if that is less, centred, as a person writes a
    word across the sketchpad. Each stroke keeps at most ``max_points`` points (see fit_strokes)."""
    aspect = CANVAS[0] / CANVAS[1]
    strokes = [_thin(stroke, max_points) for stroke in strokes if len(stroke)]
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    w, h = max(max(xs) - min(xs), 1e-9), max(max(ys) - min(ys), 1e-9)
    scale = min(height / h, width * aspect / w)  # in canvas heights per page unit
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [[(0.5 + (x - mid_x) * scale / aspect, 0.5 + (y - mid_y) * scale) for x, y in stroke]
            for stroke in strokes]


def fit_strokes(
    strokes: Sequence[Stroke], y_up: bool = False, size: float = 0.6, max_points: int = 12
) -> list[Stroke]:
    """Strokes scaled into the unit square: the longer side ``size``, centred, y pointing down.

    Each stroke keeps at most ``max_points`` of its points (evenly spaced, ends kept): software-rendered
    Chromium can take most of a second per mouse move on a busy machine.
    """
    strokes = [_thin(stroke, max_points) for stroke in strokes if len(stroke)]
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    extent = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    flip = -1 if y_up else 1
    return [
        [(0.5 + (x - mid_x) / extent * size, 0.5 + flip * (y - mid_y) / extent * size) for x, y in stroke]
        for stroke in strokes
    ]


def _thin(stroke: Stroke, max_points: int) -> Stroke:
    if len(stroke) <= max_points:
        return stroke
    keep = {round(i * (len(stroke) - 1) / (max_points - 1)) for i in range(max_points)}
    return [point for i, point in enumerate(stroke) if i in keep]


class AppPage:
    """The app open in a browser tab, with what a person does there and a way to know the app is done.

    Each finished stroke sends the canvas and asks for a prediction, and a busy
    machine can take seconds to do so; :meth:`result` waits until the page has
    had no request to the app in flight for a while, so that the guess it reads
    is the one for the whole drawing.
    """

    def __init__(
        self,
        browser: Browser,
        url: str,
        locale: str | None = None,
        viewport: dict | None = None,
        init_script: str | None = None,
    ):
        self.page = browser.new_page(viewport=viewport or VIEWPORT, locale=locale)
        if init_script:
            self.page.add_init_script(init_script)
        self._in_flight: set[Request] = set()
        self._last_activity = time.monotonic()
        self._uploads: list[Response] = []
        self.page.on("request", self._started)
        self.page.on("response", self._uploaded)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)
        self.page.goto(url)
        self.page.wait_for_selector("#sketchpad canvas", timeout=60_000)

    def _started(self, request: Request) -> None:
        if "/gradio_api/" in request.url and "heartbeat" not in request.url:
            self._last_activity = time.monotonic()
            if "/queue/data" not in request.url:  # the event stream may stay open while idle
                self._in_flight.add(request)

    def _ended(self, request: Request) -> None:
        if request in self._in_flight:
            self._in_flight.discard(request)
            self._last_activity = time.monotonic()

    def _uploaded(self, response: Response) -> None:
        if "/gradio_api/upload" in response.url:
            self._uploads.append(response)

    def last_drawing(self) -> dict:
        """The drawing the page last sent to the app, as the app's sketchpad receives it: the files that
        the page uploaded (it names them background.png, layer_0.png and composite.png), read from the
        app's upload folder, which is on this machine. To read exactly what the app read."""
        paths = [path for response in self._uploads if response.ok for path in response.json()]
        latest = {Path(path).name: path for path in paths}
        return {"background": latest.get("background.png"), "layers": [latest["layer_0.png"]],
                "composite": latest.get("composite.png")}

    def _shown(self) -> tuple[str | None, str | None]:
        """What the result column shows now: the text read, and the address of the image the model read."""
        shown = self.page.evaluate(
            """() => [document.querySelector('#reading .text')?.innerText ?? null,
                      document.querySelector('#model-input img, #line-input img')?.src ?? null]"""
        )
        return shown[0], shown[1]

    def close(self) -> None:
        self.page.close()

    def draw(self, strokes: Sequence[Stroke], pause: float = 0.0, across: bool = False) -> None:
        """Draw strokes onto the sketchpad, one mouse press per stroke, with ``pause`` seconds between strokes
        (a person lifts the pen for half a second or so). The strokes are in unit-square coordinates, the
        square the canvas's height in its middle (one character, see fit_strokes), or with ``across`` in
        canvas units (see fit_line)."""
        box = self.page.locator("#sketchpad canvas").first.bounding_box()
        if across:  # the canvas's shape, centred on the sketchpad
            width = box["width"] * ACROSS
            height = width * CANVAS[1] / CANVAS[0]
            left = box["x"] + (box["width"] - width) / 2
            top = box["y"] + (box["height"] - height) / 2
        else:
            width = height = min(box["width"], box["height"]) * 0.9
            left = box["x"] + (box["width"] - width) / 2
            top = box["y"] + (box["height"] - height) / 2
        mouse = self.page.mouse
        for i, stroke in enumerate(strokes):
            if i and pause:
                self.page.wait_for_timeout(pause * 1000)
            points = [(left + x * width, top + y * height) for x, y in stroke]
            mouse.move(*points[0])
            mouse.down()
            for point in points[1:] or [(points[0][0] + 1, points[0][1] + 1)]:  # a dot still moves a little
                mouse.move(*point)
            mouse.up()
        self._last_activity = time.monotonic()

    def wait_until_idle(self, quiet: float = 2.0, timeout: float = 60.0) -> None:
        """Wait until, for ``quiet`` seconds from now, no request to the app started or ended and the result
        stayed (the page may take a moment to send what a click asks for)."""
        deadline = time.monotonic() + timeout
        self._last_activity = max(self._last_activity, time.monotonic())
        shown = self._shown()
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)  # lets Playwright deliver the request events
            if (now := self._shown()) != shown:
                shown, self._last_activity = now, time.monotonic()
            if not self._in_flight and time.monotonic() - self._last_activity >= quiet:
                return
        raise TimeoutError(f"the page still talks to the app after {timeout:.0f} s")

    def result(self, timeout: float = 60.0) -> str | None:
        """The text read from all that was drawn (for one character, its top guess): wait for a reading, then
        until the app is done; None if none."""
        try:
            self.page.locator("#reading .text").wait_for(timeout=timeout * 1000)
        except PlaywrightTimeoutError:
            return None
        self.wait_until_idle()
        return self._shown()[0]

    def clear(self) -> None:
        """Once the page has settled, press Clear; wait until the guesses are gone and the brush is ready.

        (A read still being sent when Clear is pressed, after a change of model say, can show its guesses
        after the clear: a race in the app that a person is unlikely to meet.)
        """
        self.wait_until_idle(quiet=1.0)
        self.page.click("#clear")
        self.page.wait_for_function(
            f"""() => !document.querySelector('#reading .text')
                      && document.querySelector('{BRUSH_BUTTON}')?.classList.contains('highlight')""",
            timeout=30_000,
        )
        self.wait_until_idle(quiet=0.5)

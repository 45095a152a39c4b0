"""Handwriting Recognizer: write or upload a number, a word or a character and see what the models read.

A thin Gradio 6 layer over ``recognizer`` (the models, the preprocessing and
the image decoding live there) and ``recognizer.feedback`` (storing what users
say about a reading). The page reads with ``TextReader``, which hands a lone
character to the single-character model. Run it with ``python app.py``: it
serves on 0.0.0.0, port $PORT or 7860, locally and on Hugging Face Spaces alike.

Public API, for ``gradio_client``:
    client.predict(handle_file("7.png"), "digits", api_name="/predict")    -> {label: confidence}
    client.predict(handle_file("42.png"), "digits", api_name="/read")       -> {"text", "confidence", ...}
    client.predict(handle_file("7.png"), "digits", False, "1", api_name="/feedback") -> {"id", "prediction"}
    client.predict(api_name="/status")                                       -> feedback store status
The model is "digits", "letters" or "characters" (the display names work too).
Bad input comes back as an error whose message is written for people.

The same server also serves the lean API of ``api.py``: POST /api/v1/predict and
/api/v1/read with the picture itself, JSON back.
"""

from __future__ import annotations

import ctypes
import html
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import numpy as np
from PIL import Image

import api
from recognizer import (
    MODEL_NAMES,
    InvalidImageError,
    NoInkError,
    Prediction,
    Recognizer,
    TextReader,
    TextReading,
)
from recognizer.feedback import FeedbackService, InvalidLabelError
from recognizer.feedback.record import LINE_ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE
from recognizer.feedback.service import MAX_LINE_LENGTH
from recognizer.image_io import load_image
from recognizer.preprocess import THICK_STROKES

log = logging.getLogger("app")
T = TypeVar("T")

MODEL_TITLES = {"digits": "Digits", "letters": "Letters", "characters": "Digits + letters"}
TOP_K = 5
PREVIEW_SCALE = 8
"""The 28x28 model input is shown at 224x224, each pixel a visible square."""
LINE_PREVIEW_SCALE = 3
"""The line model's 32-pixel-high input is shown 96 pixels high."""
RUNNERS_UP = 3
"""Labels shown under each character of a line, its own first: past the third they are near 0%."""
MAX_FILE_SIZE = "10mb"
"""Uploads above this are refused by Gradio before they reach us; a photo of a line is far smaller."""
CONCURRENCY = 4
"""Requests served at once; prediction is thread-safe and takes milliseconds."""
EXAMPLES = Path(__file__).resolve().parent / "docs" / "examples"
"""Example photos and scans of real handwriting, and examples.json naming each one's model and caption
(made by python -m training.make_examples)."""
SESSIONS = 1000
"""Gradio keeps this many sessions (each browser tab is one), the least recently used dropped first: each
holds a copy of the page's configuration, about 0.2 MB, so its default of 10,000 could take 2 GB. The
sessions Gradio opens for API calls are dropped at once (App.forget_session)."""
CANVAS = (1200, 400)
"""Wide enough for about ten characters written at a natural size; one character drawn alone is fine too
(the line model's evaluation draws on this canvas)."""
BRUSH_SIZE = 18
"""Thick enough that a stroke still covers a pixel or two once a character is shrunk to 28x28."""

CSS = """
.gradio-container { max-width: 1240px !important; margin: 0 auto; }
#title h1 { margin-bottom: 0; }
#model-input img, #line-input img { image-rendering: pixelated; }
#line-input img { max-height: 96px; width: auto; max-width: 100%; object-fit: contain; }
#message p { font-size: 1.05em; margin: 0; }
#reading .text { font-size: 3.2em; font-weight: 600; line-height: 1.2; letter-spacing: 0.06em;
                 white-space: pre-wrap; word-break: break-all; }
#reading .sure { opacity: 0.7; }
#characters .row { display: flex; flex-wrap: wrap; gap: 6px; }
#characters .character { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 4px 6px;
                         min-width: 64px; text-align: center; }
#characters .label { font-size: 1.6em; font-weight: 600; white-space: pre; }
#characters button { display: block; width: 100%; border: 0; background: none; padding: 0 2px;
                     font-size: 0.85em; cursor: pointer; white-space: pre; }
#characters button:hover { background: var(--color-accent-soft); }
#characters button:first-of-type { font-weight: 600; }
#privacy, #footer { font-size: 0.85em; opacity: 0.8; }
"""

SELECT_BRUSH_JS = """
() => {
  // Gradio's sketchpad starts, and starts again after every clear, with no tool selected: it shows
  // "select the draw tool to start" (in .empty.wrap). Whenever it does, select the brush (the first
  // tool button; its label is translated) so that people can draw at once.
  const selectBrush = () => {
    if (document.querySelector('#sketchpad .empty.wrap')) {
      document.querySelector('#sketchpad .toolbar-wrap > .half-container:first-child > button')?.click();
    }
  };
  new MutationObserver(selectBrush).observe(document.body, {childList: true, subtree: true});
  selectBrush();
}
"""

# Why the page reads the drawing itself (issue 28). With a change listener, Gradio 6.31's sketchpad snapshots
# the canvas when a stroke ends, uploads the snapshot and fires "change" to send its id. But before the event
# asks for the sketchpad's value, the page refreshes the loading status of every component that was ever an
# event's input, and that refresh asks the sketchpad for its value too, using the id up. So the event read the
# live canvas again: later (seconds later in software-rendered Chromium), while the next stroke could be under
# way. always_last holds an event back only once the one before it has been sent, so such reads overlapped,
# and whichever came back last was shown: a drawing could be left read as its first stroke.
LIVE_READ_JS = """
() => {
  // Read the drawing with the hidden #live-read button when a stroke ends or a sketchpad button (undo, redo,
  // clear) is pressed, one read at a time: a change made while a read is on its way asks for one more read
  // once it is back, so the last reading shown is of the whole drawing.
  if (window.hwrLiveRead) return;
  let busy = false, again = false, timer = null, watchdog = null, pressed = false;
  const start = () => {
    const button = document.getElementById('live-read');
    if (!button) return;
    if (busy) { again = true; return; }
    busy = true;
    again = false;
    watchdog = setTimeout(done, 30000);  // should the read never report back, do not wait for it forever
    button.click();
  };
  const done = () => {
    clearTimeout(watchdog);
    busy = false;
    if (again) start();
  };
  const soon = (delay) => { clearTimeout(timer); timer = setTimeout(start, delay); };
  window.hwrLiveRead = {done};
  // Capture phase: seen before the sketchpad's own handlers, so the read is asked for once they are done.
  document.addEventListener('pointerdown', (e) => {
    pressed = !!e.target.closest?.('#sketchpad canvas');
  }, true);
  const lifted = () => { if (pressed) { pressed = false; soon(0); } };
  window.addEventListener('pointerup', lifted, true);
  window.addEventListener('pointercancel', lifted, true);
  document.addEventListener('click', (e) => { if (e.target.closest?.('#sketchpad button')) soon(50); }, true);
}
"""

LIVE_READ_DONE_JS = "() => { window.hwrLiveRead?.done(); }"

PICK_ALTERNATIVE_JS = """
() => {
  // Clicking one of a character's runners-up (in #characters) puts the reading, with that character
  // replaced, in the feedback row's text box and marks the reading as wrong: a correction in one click.
  if (window.hwrPick) return;
  window.hwrPick = true;
  document.addEventListener('click', (e) => {
    const choice = e.target.closest?.('#characters button[data-at]');
    const box = document.querySelector('#correct-label textarea, #correct-label input');
    const read = document.querySelector('#characters .row')?.dataset.text;
    if (!choice || !box || read === undefined) return;
    const chars = [...(box.value && [...box.value].length === [...read].length ? box.value : read)];
    chars[Number(choice.dataset.at)] = choice.dataset.label;
    box.value = chars.join('');
    box.dispatchEvent(new Event('input', {bubbles: true}));
    if (box.value !== read) document.querySelectorAll('#verdict input[type=radio]')[1]?.click();
  });
}
"""

PAGE_SCRIPTS = (SELECT_BRUSH_JS, LIVE_READ_JS, PICK_ALTERNATIVE_JS)
PAGE_JS = "() => { " + " ".join(f"({js.strip()})();" for js in PAGE_SCRIPTS) + " }"
"""Run once the page has loaded: the brush is ready to draw with, each stroke is read, and a runner-up
clicked corrects the reading."""

CLEAR_CANVAS_JS = """
() => {
  // Press the sketchpad's own "Clear canvas" button (the last in its top panel): setting the value
  // to None from Python does not always wipe the canvas. The page then reads the empty canvas (LIVE_READ_JS).
  [...document.querySelectorAll('#sketchpad .top-panel button')].pop()?.click();
}
"""

PRIVACY_NOTE = (
    "🔒 **Privacy:** nothing is kept when you only draw. When you press *Send feedback*, your drawing or "
    "image, the model's reading and your answer are stored (and may be copied to a Google Sheet) to improve "
    "the models. Please do not upload anything personal."
)
HINT = "Write a number, a word or one character on the canvas, or upload a photo of one."
THICK_HINT = (
    "✏️ The strokes are thick for a character this small, so its loops may have closed up. "
    "Draw or write it bigger for a better reading."
)


@dataclass(frozen=True)
class Shown:
    """The last reading a user saw, kept in gr.State so feedback refers to exactly that."""

    model_name: str
    reading: TextReading
    """A line's reading, or a lone character's (its ``prediction`` set)."""
    image: np.ndarray
    """The image as decoded (the drawing's ink, or the uploaded picture), stored with the feedback; shrunk
    as the feedback store shrinks it (``kept_copy``), so that a session holds at most about 1 MB of it."""
    feedback_sent: bool = False
    """Set once feedback on this reading is stored, so that a second click does not store it twice."""


def load_recognizers(names: tuple[str, ...] = MODEL_NAMES) -> dict[str, Recognizer]:
    """Every model whose files are in models/, in MODEL_NAMES order; the app offers only these."""
    recognizers = {}
    for name in names:
        try:
            recognizers[name] = Recognizer.load(name)
        except FileNotFoundError:
            log.info("model %s not found in models/; not offered", name)
    if not recognizers:
        raise SystemExit("No model found in models/: export one first (python -m export).")
    return recognizers


def load_readers(recognizers: dict[str, Recognizer]) -> dict[str, TextReader]:
    """A TextReader for each model offered, all sharing one line model and each reading a lone character
    with the model offered under its name."""
    try:
        line = TextReader.load(next(iter(recognizers)))
    except FileNotFoundError as e:
        raise SystemExit(f"{e}. The app reads with it: export it first (python -m export.lines).") from None
    return {name: line.with_alphabet(name, recognizer) for name, recognizer in recognizers.items()}


def load_examples(models: dict[str, Recognizer], folder: Path = EXAMPLES) -> list[dict]:
    """The example pictures whose model is offered: file (a full path), model, label and caption."""
    try:
        examples = json.loads((folder / "examples.json").read_text())
    except FileNotFoundError:
        return []
    return [{**e, "file": str(folder / e["file"])} for e in examples if e["model"] in models]


def hint(reading: TextReading) -> str:
    """What to tell the user beside a reading that may mislead them; empty if nothing. (Several characters
    need no hint now: the line model reads them.)"""
    if reading.prediction is not None and reading.prediction.stroke_share > THICK_STROKES:
        return THICK_HINT
    return ""


def preview(model_input: np.ndarray, scale: int = PREVIEW_SCALE) -> np.ndarray:
    """A model input scaled up by whole pixels, so that it is visible as the model saw it."""
    return np.kron(model_input, np.ones((scale, scale), dtype=np.uint8))


def reading_html(reading: TextReading) -> str:
    """The text read, in large type, and how sure the model is of all of it."""
    return (f'<div class="text">{html.escape(reading.text)}</div>'
            f'<div class="sure">{reading.confidence:.0%} sure of it all</div>')


def characters_html(reading: TextReading) -> str:
    """Each character read over its RUNNERS_UP best labels, each a button (PICK_ALTERNATIVE_JS): where a
    character is misread, the right one is often second."""
    tiles = []
    for at, c in enumerate(reading.characters):
        choices = "".join(
            f'<button data-at="{at}" data-label="{html.escape(label, quote=True)}" '
            f'title="Correct it to {visible_label(label)}">{visible_label(label)} {p:.0%}</button>'
            for label, p in c.top_k[:RUNNERS_UP]
        )
        top = f'<div class="label">{visible_label(c.label)}</div>'
        tiles.append(f'<div class="character">{top}{choices}</div>')
    return f'<div class="row" data-text="{html.escape(reading.text, quote=True)}">{"".join(tiles)}</div>'


def visible_label(label: str) -> str:
    """A label as HTML text, a space made visible."""
    return "␣" if label == " " else html.escape(label, quote=True)


def kept_copy(image: np.ndarray, max_side: int = ORIGINAL_MAX_SIDE) -> np.ndarray:
    """``image`` shrunk to fit ``max_side``, as the feedback store would shrink it (the same pixels end up
    stored), so that a session does not hold a 2048-pixel photo until feedback is sent."""
    if image.dtype != np.uint8 or max(image.shape[:2]) <= max_side:
        return image
    small = Image.fromarray(image)
    small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.asarray(small)


def refused_as_gr_error(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)``, where bad input (a picture, or feedback's label) becomes a gr.Error, whose
    message the client or the page gets as it is."""
    try:
        return call(*args)
    except (NoInkError, InvalidImageError, InvalidLabelError) as e:
        raise gr.Error(str(e), print_exception=False) from None


def undecoded_drawing(sketchpad: gr.Sketchpad, payload: Any) -> dict | None:
    """The sketchpad's value with the drawing's PNGs left as they came, for ``load_image`` to decode.

    Used as the sketchpad's preprocess: Gradio's own decodes all three of the canvas's PNGs (background,
    layers, composite) into arrays on every stroke, most of what a stroke cost (issue 29). ``load_image``
    takes only the layers' alpha, and reads the composite only when no layer has a stroke. The value is
    the usual {"background", "layers", "composite"} dict, with PNG bytes or file paths for the images.
    """
    if payload is None:
        return None
    parts = payload
    if payload.id is not None:  # the page sent the PNGs beforehand (accept_blobs), under this id
        parts = sketchpad.blob_storage.pop(payload.id, None)
        if parts is None:
            return {"background": None, "layers": [], "composite": None}

    def undecoded(part: Any) -> bytes | str | None:
        return getattr(part, "path", part)  # a FileData's path, or the bytes themselves

    return {
        "background": undecoded(parts.background),
        "layers": [undecoded(layer) for layer in parts.layers if layer is not None],
        "composite": undecoded(parts.composite),
    }


def model_picture(label: str, elem_id: str, height: int) -> gr.Image:
    """An image output for what a model read: PNG, so that its pixels stay sharp, and nothing to click."""
    return gr.Image(label=label, elem_id=elem_id, interactive=False, height=height, format="png", buttons=[])


def status_line(status: dict) -> str:
    """The footer: how much feedback is stored here and how far the Google Sheets copy lags."""
    line = f"Feedback stored: {status['stored']}"
    if status["sheets"] == "enabled":
        line += f" · waiting to sync to Google Sheets: {status['pending']}"
        if status.get("parked"):
            line += f" · refused by Sheets and kept here: {status['parked']}"
        if status.get("last_error"):
            line += f" · last sync error: {status['last_error']}"
    else:
        line += " · Google Sheets sync is off"
    return line


class App:
    """The models and the feedback service, and the functions the UI and the API call."""

    def __init__(
        self,
        recognizers: dict[str, Recognizer],
        feedback: FeedbackService,
        readers: dict[str, TextReader] | None = None,
    ):
        self.recognizers = recognizers
        self.readers = load_readers(recognizers) if readers is None else readers
        self.feedback = feedback
        self.examples = load_examples(recognizers)
        self.demo: gr.Blocks | None = None
        """The page, once built; its Gradio server's sessions are what forget_session trims."""

    def model_name(self, model: str | None) -> str:
        """The model's name for a name ("digits") or a display name ("Digits"); gr.Error if there is none."""
        wanted = (model or "digits").strip().lower()
        for name in self.recognizers:
            if wanted in (name, MODEL_TITLES[name].lower()):
                return name
        raise gr.Error(
            f"Unknown model {model!r}. Choose one of: {', '.join(self.recognizers)}.", print_exception=False
        )

    def read(self, value: Any, model: str | None) -> Shown:
        """Decode ``value`` and read it; NoInkError / InvalidImageError carry messages for users."""
        name = self.model_name(model)
        image = load_image(value)
        reading = self.readers[name].read(image, top_k=TOP_K)
        keep = ORIGINAL_MAX_SIDE if reading.prediction is not None else LINE_ORIGINAL_MAX_SIDE
        return Shown(name, reading, kept_copy(image, keep))

    # -- public API -------------------------------------------------------------------------

    def api_predict(self, image_path: str | None, model: str, request: gr.Request | None = None) -> dict:
        """The top 5 {label: confidence} for an image file, by the single-character model."""
        self.forget_session(request)
        recognizer = self.recognizers[self.model_name(model)]
        return refused_as_gr_error(recognizer.predict, image_path, TOP_K).as_dict()

    def api_read(self, image_path: str | None, model: str, request: gr.Request | None = None) -> dict:
        """A number, word or line in an image file: {"text", "confidence", "characters"}."""
        self.forget_session(request)
        reader = self.readers[self.model_name(model)]
        return refused_as_gr_error(reader.read, image_path, TOP_K).as_dict()

    def api_feedback(
        self, image_path: str | None, model: str, correct: bool, correct_label: str,
        request: gr.Request | None = None,
    ) -> dict:
        """Predict one character in an image file and store the caller's verdict on it."""
        self.forget_session(request)
        recognizer = self.recognizers[self.model_name(model)]
        image = refused_as_gr_error(load_image, image_path)
        prediction = refused_as_gr_error(recognizer.predict, image, TOP_K)
        record_id = self.submit_character(recognizer, prediction, correct, correct_label, kept_copy(image))
        return {"id": record_id, "prediction": prediction.label}

    def api_status(self, request: gr.Request | None = None) -> dict:
        """The feedback store's status: stored, pending, sheets, last_error, last_sync."""
        self.forget_session(request)
        return self.feedback.status()

    def forget_session(self, request: gr.Request | None) -> None:
        """Drop the session Gradio opened for this API call, once the call has its own reference to it.

        Gradio keeps a session for every REST call (its id is the call's), with a copy of the page's
        configuration, until SESSIONS newer ones push it out: 1,700 calls grew the server by 320 MB
        (issue 29). The API keeps nothing between calls, so its sessions can go now. A session that
        holds a page's state (a browser tab's reading) is left alone. Relies on Gradio 6.31's
        StateHolder (``session_data``, ``time_last_used``, ``lock``).
        """
        holder = getattr(self.demo, "state_holder", None)
        session_hash = getattr(request, "session_hash", None)
        if holder is None or session_hash is None:
            return
        with holder.lock:
            session = holder.session_data.get(session_hash)
            if session is not None and not session.state_data:
                del holder.session_data[session_hash]
                holder.time_last_used.pop(session_hash, None)

    def submit_character(
        self, recognizer: Recognizer, prediction: Prediction, correct: bool, correct_label: str | None,
        image: np.ndarray,
    ) -> str:
        """Store feedback on one character and return its id; a label the model lacks is a gr.Error."""
        return refused_as_gr_error(
            self.feedback.submit, recognizer.name, recognizer.sha256, recognizer.labels, prediction,
            bool(correct), correct_label, image,
        )

    def submit(self, shown: Shown, correct: bool, correct_text: str | None) -> str:
        """Store feedback on the reading shown and return its id; a text the model cannot write is a gr.Error.

        A lone character's is stored as today, for its single-character model; a line's, or a lone
        character said to be more than one ("11" read as "1"), as a line's, for the line model."""
        prediction = shown.reading.prediction
        if prediction is not None and (correct or len((correct_text or "").strip()) <= 1):
            recognizer = self.recognizers[shown.model_name]
            return self.submit_character(recognizer, prediction, correct, correct_text, shown.image)
        reader = self.readers[shown.model_name]
        return refused_as_gr_error(
            self.feedback.submit_line, reader.name, reader.sha256, shown.reading, bool(correct), correct_text,
            shown.image,
        )

    # -- UI events --------------------------------------------------------------------------

    def ui_predict(self, value: Any, model: str, when_blank: str | None = None) -> tuple:
        """Read a drawing or an upload for the page; bad input shows its message, never a traceback.

        A character small for its strokes is read all the same, with a hint (see hint)."""
        try:
            shown = self.read(value, model)
        except NoInkError as e:
            return self.ui_show(None, when_blank or f"⚠️ {e}")
        except InvalidImageError as e:
            return self.ui_show(None, f"⚠️ {e}")
        return self.ui_show(shown, hint(shown.reading))

    def ui_stroke(self, drawing: Any, model: str) -> tuple:
        """After each stroke. A blank canvas here was just cleared: show the hint, not a warning."""
        return self.ui_predict(drawing, model, when_blank=HINT)

    def ui_upload(self, upload: dict | None, model: str) -> tuple:
        """A new upload, taken unprocessed (preprocess=False): gr.Image would open it with Pillow first and
        fail with a bare "Error" on a file that is no image, where ``recognizer`` says what is wrong.
        Returns the file's path, kept for the Predict button and model changes, and what to show."""
        return self.ui_upload_path((upload or {}).get("path"), model)

    def ui_upload_path(self, path: str | None, model: str) -> tuple:
        """A picture by its path, an upload's or a picked example's: kept for the Predict button and
        model changes, and read."""
        return path, *self.ui_predict(path, model)

    def ui_predict_open_tab(self, tab: str, drawing: Any, upload: str | None, model: str) -> tuple:
        """The Predict button: read whichever tab is open."""
        return self.ui_predict(upload if tab == "upload" else drawing, model)

    def ui_model_changed(self, tab: str, drawing: Any, upload: str | None, model: str) -> tuple:
        """Read the open tab again with the model just chosen; an empty tab gets the hint, not a warning."""
        return self.ui_predict(upload if tab == "upload" else drawing, model, when_blank=HINT)

    @staticmethod
    def ui_show(shown: Shown | None, message: str) -> tuple:
        """Values for [reading, characters, line input, line view, guesses, model input, character view,
        message, shown, verdict, correct text, feedback message]: a line shows each character's runners-up
        and the line image read; a lone character its top 5 and the 28x28 image read."""
        line = ("", None, gr.Column(visible=False))
        character = (None, None, gr.Row(visible=False))
        if shown is None:
            return "", *line, *character, message, None, None, "", ""
        reading, one = shown.reading, shown.reading.prediction
        if one is None:
            image = preview(reading.model_input, LINE_PREVIEW_SCALE)
            line = (characters_html(reading), image, gr.Column(visible=True))
        else:
            character = (one.as_dict(), preview(one.model_input), gr.Row(visible=True))
        return reading_html(reading), *line, *character, message, shown, None, "", ""

    def ui_clear(self) -> tuple:
        """Values for [upload, its kept path, *what ui_show returns]; the canvas is wiped in the browser."""
        return None, None, *self.ui_show(None, HINT)

    def ui_feedback(self, shown: Shown | None, verdict: str | None, correct_text: str) -> tuple:
        """Store the verdict on the reading shown; returns the message, the new shown state and the footer."""
        if shown is None:
            message = "⚠️ Write or upload something first, then say whether the reading was right."
        elif shown.feedback_sent:
            message = "✅ Your feedback on this reading is already saved. Thanks!"
        elif verdict is None:
            message = "⚠️ Choose *Right* or *Wrong* first."
        else:
            try:
                self.submit(shown, verdict == "Right", correct_text)
                shown = replace(shown, feedback_sent=True)
                message = "✅ Thanks! Your feedback was saved."
            except gr.Error as e:
                message = f"⚠️ {e.message}"
        return message, shown, self.ui_status()

    def ui_status(self) -> str:
        return status_line(self.feedback.status())

    # -- layout -----------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        """The page: the wide canvas (or the upload) across the page; under it the reading on the left,
        the feedback on the right."""
        with gr.Blocks(title="Handwriting Recognizer") as demo:
            gr.Markdown(
                "# ✍️ Handwriting Recognizer\n"
                "Write a number, a word or a single character, or upload a photo of one. The app reads it as "
                "you write: the text, each character's runners-up, and the picture the model actually read.",
                elem_id="title",
            )
            tab = gr.State("draw")
            upload_path = gr.State(None)
            shown = gr.State(None)
            # Made here for the upload tab's examples, which set it; shown under the tabs.
            model = gr.Radio(
                [(MODEL_TITLES[name], name) for name in self.recognizers],
                value=next(iter(self.recognizers)),
                label="Model",
                elem_id="model",
                render=False,
            )
            with gr.Tabs():
                with gr.Tab("Draw", id="draw") as draw_tab:
                    drawing = gr.Sketchpad(
                        label="Write a number, a word or a character",
                        elem_id="sketchpad",
                        canvas_size=CANVAS,
                        height=CANVAS[1] + 40,
                        brush=gr.Brush(BRUSH_SIZE, colors=["#000000"], color_mode="fixed"),
                        layers=False,
                        transforms=(),
                        buttons=[],
                    )
                    # Set on this one sketchpad, not in a subclass: Gradio writes a .pyi stub
                    # beside the module of every subclass of a component.
                    drawing.preprocess = partial(undecoded_drawing, drawing)
                with gr.Tab("Upload", id="upload") as upload_tab:
                    with gr.Row(equal_height=False):
                        upload = gr.Image(
                            label="A photo or scan of a number, a word or a character",
                            elem_id="upload",
                            type="filepath",
                            image_mode=None,
                            height=CANVAS[1],
                            scale=3,
                        )
                        examples = None
                        if self.examples:  # clicking one fills the upload and the model choice
                            with gr.Column(scale=2, min_width=300):
                                examples = gr.Examples(
                                    [[e["file"], e["model"]] for e in self.examples],
                                    inputs=[upload, model],
                                    example_labels=[e["caption"] for e in self.examples],
                                    label="Or try a photo or scan of real handwriting",
                                    elem_id="examples",
                                    cache_examples=False,
                                    api_visibility="private",
                                )
            with gr.Row(equal_height=True):
                with gr.Column(scale=3, min_width=360):
                    model.render()
                with gr.Column(scale=2, min_width=300):
                    with gr.Row():
                        clear = gr.Button("Clear", elem_id="clear")
                        predict = gr.Button("Predict", variant="primary", elem_id="predict")
            live_read = gr.Button(visible="hidden", elem_id="live-read")  # pressed by LIVE_READ_JS
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    message = gr.Markdown(HINT, elem_id="message")
                    reading = gr.HTML(elem_id="reading")
                    with gr.Column(visible=False, elem_id="line-view") as line_view:
                        characters = gr.HTML(elem_id="characters")
                        line_input = model_picture("What the line model saw (32 px high)", "line-input", 140)
                    with gr.Row(visible=False, elem_id="character-view") as character_view:
                        guesses = gr.Label(num_top_classes=TOP_K, label="Top 5 guesses", elem_id="guesses")
                        model_input = model_picture("What the model saw (28×28)", "model-input", 240)
                with gr.Column(scale=2, min_width=300):
                    with gr.Group(elem_id="feedback"):
                        verdict = gr.Radio(
                            ["Right", "Wrong"], label="Was the reading right?", elem_id="verdict"
                        )
                        correct_label = gr.Textbox(
                            label="If wrong, what you wrote",
                            placeholder="e.g. 7, g, 2024 or hello (or click a runner-up)",
                            max_length=MAX_LINE_LENGTH,
                            elem_id="correct-label",
                        )
                        send = gr.Button("Send feedback", elem_id="send")
                    feedback_message = gr.Markdown(elem_id="feedback-message")
                    gr.Markdown(PRIVACY_NOTE, elem_id="privacy")
            footer = gr.Markdown(elem_id="footer")

            # UI events: private, so that the public API is only /predict, /read, /feedback and /status.
            ui = {"api_visibility": "private", "show_progress": "hidden"}
            shows = [reading, characters, line_input, line_view, guesses, model_input, character_view,
                     message, shown, verdict, correct_label, feedback_message]
            draw_tab.select(lambda: "draw", None, tab, **ui)
            upload_tab.select(lambda: "upload", None, tab, **ui)
            # Each stroke is read by the page's own JS (LIVE_READ_JS), one read at a time, with this hidden
            # button; the sketchpad has no change event, which would read the canvas at the wrong time.
            live_read.click(self.ui_stroke, [drawing, model], shows, trigger_mode="always_last", **ui).then(
                None, None, None, js=LIVE_READ_DONE_JS, **ui
            )
            upload.upload(self.ui_upload, [upload, model], [upload_path, *shows], preprocess=False, **ui)
            upload.clear(self.ui_clear, None, [upload, upload_path, *shows], **ui)
            open_tab = [tab, drawing, upload_path, model]
            predict.click(self.ui_predict_open_tab, open_tab, shows, **ui)
            model.input(self.ui_model_changed, open_tab, shows, **ui)  # a person's choice, not an example's
            clear.click(self.ui_clear, None, [upload, upload_path, *shows], js=CLEAR_CANVAS_JS, **ui)
            if examples:
                picked = [upload, model]
                examples.load_input_event.then(self.ui_upload_path, picked, [upload_path, *shows], **ui)
            feedback_row = [shown, verdict, correct_label]
            send.click(self.ui_feedback, feedback_row, [feedback_message, shown, footer], **ui)
            demo.load(self.ui_status, None, footer, js=PAGE_JS, **ui)

            # The public API, on hidden components so that it takes a file and plain strings.
            with gr.Column(visible=False):
                api_image = gr.File(type="filepath", label="image")
                api_model = gr.Textbox(value="digits", label="model")
                api_correct = gr.Checkbox(label="correct")
                api_label = gr.Textbox(label="correct_label")
                api_result = gr.JSON(label="result")
                api_trigger = gr.Button()
            api_trigger.click(self.api_predict, [api_image, api_model], api_result, api_name="predict")
            api_trigger.click(self.api_read, [api_image, api_model], api_result, api_name="read")
            feedback_inputs = [api_image, api_model, api_correct, api_label]
            api_trigger.click(self.api_feedback, feedback_inputs, api_result, api_name="feedback")
            api_trigger.click(self.api_status, None, api_result, api_name="status")
        self.demo = demo
        return demo


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before Gradio starts its worker threads.

    glibc gives busy threads arenas of their own, and memory freed in them is
    rarely returned: after a load test the app held 509 MB instead of ~230 MB
    (benchmarks/results.md). Same effect as MALLOC_ARENA_MAX=2; no-op off glibc.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 is M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def main() -> None:
    limit_malloc_arenas()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    feedback = FeedbackService.from_env()
    try:
        app = App(load_recognizers(), feedback)
        demo = app.build()
        demo.queue(default_concurrency_limit=CONCURRENCY).launch(
            server_name="0.0.0.0",
            server_port=int(os.environ.get("PORT", "7860")),
            max_file_size=MAX_FILE_SIZE,
            css=CSS,
            theme=gr.themes.Soft(),
            state_session_capacity=SESSIONS,
            # The lean API (api.py) on the same server: FastAPI(routes=...) puts its routes before Gradio's.
            # launch() itself is as before, so that a Space (sdk: gradio) runs app.py unchanged.
            app_kwargs={"routes": api.routes(app.recognizers, app.readers, CONCURRENCY)},
        )
    finally:
        feedback.close()


if __name__ == "__main__":
    main()

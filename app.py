"""Handwriting Recognizer: draw or upload a character and see what the model reads.

A thin Gradio 6 layer over ``recognizer`` (the models, the preprocessing and
the image decoding live there) and ``recognizer.feedback`` (storing what users
say about a guess). Run it with ``python app.py``: it serves on 0.0.0.0, port
$PORT or 7860, locally and on Hugging Face Spaces alike.

Public API, for ``gradio_client``:
    client.predict(handle_file("7.png"), "digits", api_name="/predict")    -> {label: confidence}
    client.predict(handle_file("7.png"), "digits", False, "1", api_name="/feedback") -> {"id", "prediction"}
    client.predict(api_name="/status")                                       -> feedback store status
The model is "digits", "letters" or "characters" (the display names work too).
Bad input comes back as an error whose message is written for people.

The same server also serves the lean API of ``api.py``: POST /api/v1/predict with
the picture itself, JSON back.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

import api
from recognizer import MODEL_NAMES, InvalidImageError, NoInkError, Prediction, Recognizer
from recognizer.feedback import FeedbackService, InvalidLabelError
from recognizer.feedback.record import ORIGINAL_MAX_SIDE
from recognizer.image_io import load_image
from recognizer.preprocess import THICK_STROKES

log = logging.getLogger("app")

MODEL_TITLES = {"digits": "Digits", "letters": "Letters", "characters": "Digits + letters"}
TOP_K = 5
PREVIEW_SCALE = 8
"""The 28x28 model input is shown at 224x224, each pixel a visible square."""
MAX_FILE_SIZE = "10mb"
"""Uploads above this are refused by Gradio before they reach us; a photo of one character is far smaller."""
CONCURRENCY = 4
"""Requests served at once; prediction is thread-safe and takes milliseconds."""
EXAMPLES = Path(__file__).resolve().parent / "docs" / "examples"
"""Example photos and scans of real handwriting, and examples.json naming each one's model and caption
(made by python -m training.make_examples)."""
SESSIONS = 1000
"""Gradio keeps this many sessions (each browser tab is one), the least recently used dropped first: each
holds a copy of the page's configuration, about 0.2 MB, so its default of 10,000 could take 2 GB. The
sessions Gradio opens for API calls are dropped at once (App.forget_session)."""
CANVAS = (600, 600)
BRUSH_SIZE = 18
"""Thick enough that a stroke still covers a pixel or two once the drawing is shrunk to 28x28."""

CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto; }
#title h1 { margin-bottom: 0; }
#model-input img { image-rendering: pixelated; }
#message p { font-size: 1.05em; margin: 0; }
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

PAGE_JS = f"() => {{ ({SELECT_BRUSH_JS.strip()})(); ({LIVE_READ_JS.strip()})(); }}"
"""Run once the page has loaded: the brush is ready to draw with, and each stroke is read."""

CLEAR_CANVAS_JS = """
() => {
  // Press the sketchpad's own "Clear canvas" button (the last in its top panel): setting the value
  // to None from Python does not always wipe the canvas. The page then reads the empty canvas (LIVE_READ_JS).
  [...document.querySelectorAll('#sketchpad .top-panel button')].pop()?.click();
}
"""

PRIVACY_NOTE = (
    "🔒 **Privacy:** nothing is kept when you only draw. When you press *Send feedback*, your drawing or "
    "image, the model's guesses and your answer are stored (and may be copied to a Google Sheet) to improve "
    "the models. Please do not upload anything personal."
)
HINT = "Draw a digit or a letter on the canvas, or upload a photo of one."
THICK_HINT = (
    "✏️ The strokes are thick for a character this small, so its loops may have closed up. "
    "Draw or write it bigger for a better reading."
)
SEVERAL_HINT = (
    "☝️ This looks like more than one character. The model reads one at a time: "
    "draw or upload a single character for a reliable reading."
)


@dataclass(frozen=True)
class Shown:
    """The last prediction a user saw, kept in gr.State so feedback refers to exactly that."""

    model_name: str
    prediction: Prediction
    image: np.ndarray
    """The image as decoded (the drawing's ink, or the uploaded picture), stored with the feedback; shrunk
    as the feedback store shrinks it (``kept_copy``), so that a session holds at most 256 KB of it."""
    feedback_sent: bool = False
    """Set once feedback on this prediction is stored, so that a second click does not store it twice."""


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


def load_examples(models: dict[str, Recognizer], folder: Path = EXAMPLES) -> list[dict]:
    """The example pictures whose model is offered: file (a full path), model, label and caption."""
    try:
        examples = json.loads((folder / "examples.json").read_text())
    except FileNotFoundError:
        return []
    return [{**e, "file": str(folder / e["file"])} for e in examples if e["model"] in models]


def hint(prediction: Prediction) -> str:
    """What to tell the user beside a reading that may mislead them; empty if nothing."""
    if prediction.several_characters:
        return SEVERAL_HINT
    if prediction.stroke_share > THICK_STROKES:
        return THICK_HINT
    return ""


def preview(model_input: np.ndarray) -> np.ndarray:
    """The 28x28 model input scaled up by whole pixels, so that it is visible as the model saw it."""
    return np.kron(model_input, np.ones((PREVIEW_SCALE, PREVIEW_SCALE), dtype=np.uint8))


def kept_copy(image: np.ndarray) -> np.ndarray:
    """``image`` shrunk to fit ORIGINAL_MAX_SIDE, as the feedback store would shrink it (the same pixels
    end up stored), so that a session does not hold a 2048-pixel photo until feedback is sent."""
    if image.dtype != np.uint8 or max(image.shape[:2]) <= ORIGINAL_MAX_SIDE:
        return image
    small = Image.fromarray(image)
    small.thumbnail((ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(small)


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
    """The recognizers and the feedback service, and the functions the UI and the API call."""

    def __init__(self, recognizers: dict[str, Recognizer], feedback: FeedbackService):
        self.recognizers = recognizers
        self.feedback = feedback
        self.examples = load_examples(recognizers)
        self.demo: gr.Blocks | None = None
        """The page, once built; its Gradio server's sessions are what forget_session trims."""

    def recognizer(self, model: str | None) -> Recognizer:
        """The model for a name ("digits") or a display name ("Digits"); gr.Error if there is none."""
        wanted = (model or "digits").strip().lower()
        for name, recognizer in self.recognizers.items():
            if wanted in (name, MODEL_TITLES[name].lower()):
                return recognizer
        raise gr.Error(
            f"Unknown model {model!r}. Choose one of: {', '.join(self.recognizers)}.", print_exception=False
        )

    def read(self, value: Any, model: str | None) -> Shown:
        """Decode ``value`` and predict; NoInkError / InvalidImageError carry messages for users."""
        recognizer = self.recognizer(model)
        image = load_image(value)
        return Shown(recognizer.name, recognizer.predict(image, top_k=TOP_K), kept_copy(image))

    # -- public API -------------------------------------------------------------------------

    def api_read(self, image_path: str | None, model: str) -> Shown:
        """read() for API callers: bad input becomes a gr.Error, whose message the client gets as it is."""
        try:
            return self.read(image_path, model)
        except (NoInkError, InvalidImageError) as e:
            raise gr.Error(str(e), print_exception=False) from None

    def api_predict(self, image_path: str | None, model: str, request: gr.Request | None = None) -> dict:
        """The top 5 {label: confidence} for an image file."""
        self.forget_session(request)
        return self.api_read(image_path, model).prediction.as_dict()

    def api_feedback(
        self, image_path: str | None, model: str, correct: bool, correct_label: str,
        request: gr.Request | None = None,
    ) -> dict:
        """Predict on an image file and store the caller's verdict on it, as the UI's feedback row does."""
        self.forget_session(request)
        shown = self.api_read(image_path, model)
        return {"id": self.submit(shown, correct, correct_label), "prediction": shown.prediction.label}

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

    def submit(self, shown: Shown, correct: bool, correct_label: str | None) -> str:
        """Store feedback on ``shown`` and return its id; a label the model does not know is a gr.Error."""
        recognizer = self.recognizers[shown.model_name]
        try:
            return self.feedback.submit(
                recognizer.name, recognizer.sha256, recognizer.labels, shown.prediction,
                bool(correct), correct_label, shown.image,
            )
        except InvalidLabelError as e:
            raise gr.Error(str(e), print_exception=False) from None

    # -- UI events --------------------------------------------------------------------------

    def ui_predict(self, value: Any, model: str, when_blank: str | None = None) -> tuple:
        """Read a drawing or an upload for the page; bad input shows its message, never a traceback.

        A character small for its strokes, or more than one, is read all the same, with a hint (see hint)."""
        try:
            shown = self.read(value, model)
        except NoInkError as e:
            return self.ui_show(None, when_blank or f"⚠️ {e}")
        except InvalidImageError as e:
            return self.ui_show(None, f"⚠️ {e}")
        return self.ui_show(shown, hint(shown.prediction))

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
        """Values for [guesses, model input, message, shown, verdict, correct label, feedback message]."""
        if shown is None:
            return None, None, message, None, None, "", ""
        guesses, model_input = shown.prediction.as_dict(), preview(shown.prediction.model_input)
        return guesses, model_input, message, shown, None, "", ""

    def ui_clear(self) -> tuple:
        """Values for [upload, its kept path, *what ui_show returns]; the canvas is wiped in the browser."""
        return None, None, *self.ui_show(None, HINT)

    def ui_feedback(self, shown: Shown | None, verdict: str | None, correct_label: str) -> tuple:
        """Store the verdict on the guess shown; returns the message, the new shown state and the footer."""
        if shown is None:
            message = "⚠️ Draw or upload a character first, then say whether the guess was right."
        elif shown.feedback_sent:
            message = "✅ Your feedback on this guess is already saved. Thanks!"
        elif verdict is None:
            message = "⚠️ Choose *Right* or *Wrong* first."
        else:
            try:
                self.submit(shown, verdict == "Right", correct_label)
                shown = replace(shown, feedback_sent=True)
                message = "✅ Thanks! Your feedback was saved."
            except gr.Error as e:
                message = f"⚠️ {e.message}"
        return message, shown, self.ui_status()

    def ui_status(self) -> str:
        return status_line(self.feedback.status())

    # -- layout -----------------------------------------------------------------------------

    def build(self) -> gr.Blocks:
        """The page: canvas and upload on the left, guesses, model input and feedback on the right."""
        with gr.Blocks(title="Handwriting Recognizer") as demo:
            gr.Markdown(
                "# ✍️ Handwriting Recognizer\n"
                "Draw a digit or a letter, or upload a photo of one: the model shows its five best guesses "
                "and the 28×28 picture it actually read.",
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
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    with gr.Tabs():
                        with gr.Tab("Draw", id="draw") as draw_tab:
                            drawing = gr.Sketchpad(
                                label="Draw one character",
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
                            upload = gr.Image(
                                label="A photo or scan of one character",
                                elem_id="upload",
                                type="filepath",
                                image_mode=None,
                                height=CANVAS[1] + 40,
                            )
                            examples = None
                            if self.examples:  # clicking one fills the upload and the model choice
                                examples = gr.Examples(
                                    [[e["file"], e["model"]] for e in self.examples],
                                    inputs=[upload, model],
                                    example_labels=[e["caption"] for e in self.examples],
                                    label="Or try a photo or scan of real handwriting",
                                    elem_id="examples",
                                    cache_examples=False,
                                    api_visibility="private",
                                )
                    model.render()
                    with gr.Row():
                        clear = gr.Button("Clear", elem_id="clear")
                        predict = gr.Button("Predict", variant="primary", elem_id="predict")
                    live_read = gr.Button(visible="hidden", elem_id="live-read")  # pressed by LIVE_READ_JS
                with gr.Column(scale=2, min_width=300):
                    message = gr.Markdown(HINT, elem_id="message")
                    guesses = gr.Label(num_top_classes=TOP_K, label="Top 5 guesses", elem_id="guesses")
                    model_input = gr.Image(
                        label="What the model saw (28×28)",
                        elem_id="model-input",
                        interactive=False,
                        height=240,
                        format="png",
                        buttons=[],
                    )
                    with gr.Group(elem_id="feedback"):
                        verdict = gr.Radio(["Right", "Wrong"], label="Was the top guess right?")
                        correct_label = gr.Textbox(
                            label="If wrong, the correct character",
                            placeholder="e.g. 7 or g",
                            max_length=10,
                            elem_id="correct-label",
                        )
                        send = gr.Button("Send feedback", elem_id="send")
                    feedback_message = gr.Markdown(elem_id="feedback-message")
                    gr.Markdown(PRIVACY_NOTE, elem_id="privacy")
            footer = gr.Markdown(elem_id="footer")

            # UI events: private, so that the public API is only /predict, /feedback and /status.
            ui = {"api_visibility": "private", "show_progress": "hidden"}
            shows = [guesses, model_input, message, shown, verdict, correct_label, feedback_message]
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
            app_kwargs={"routes": api.routes(app.recognizers, CONCURRENCY)},
        )
    finally:
        feedback.close()


if __name__ == "__main__":
    main()

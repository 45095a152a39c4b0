"""The lean HTTP API: one POST with the picture, one JSON answer. app.py serves it beside Gradio.

    curl -H "Content-Type: image/png" --data-binary @seven.png "http://localhost:7860/api/v1/predict?top_k=3"
    curl -F file=@seven.png -F model=letters http://localhost:7860/api/v1/predict
    curl -H "Content-Type: image/png" --data-binary @2024.png http://localhost:7860/api/v1/read   # a line

Why beside Gradio's API: a Gradio call takes three requests (upload, call, event
stream), and Gradio keeps a session for each. These routes are plain FastAPI,
keep nothing between calls and answer in one round trip (issue 29).

Bad input gets a 4xx status and {"error": message}, the message written for
people. A new route is one more function in ``routes`` that hands ``answer`` what
to do with the picture, given the request's parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.routing import BaseRoute

from recognizer import InvalidImageError, NoInkError, Prediction, Recognizer, TextReader
from recognizer.labels import MODEL_LABELS
from recognizer.preprocess import THICK_STROKES

log = logging.getLogger("api")

PREFIX = "/api/v1"
MAX_BODY = 10 * 2**20
"""Requests with a larger body are refused (413) before more than this is read; Gradio's uploads have the
same limit (app.MAX_FILE_SIZE)."""
DEFAULT_TOP_K = 5
RAW_OR_FORM = ("application/octet-stream", "multipart/form-data")
"""Content types taken besides image/*: a body of bytes whose kind the sender did not say, and a form."""
M = TypeVar("M", Recognizer, TextReader)
Reading = Callable[[bytes], dict]
"""What a route does with the picture's bytes: read them and return the JSON answer."""


class ApiError(Exception):
    """A request we refuse: its HTTP status and a message for people."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def failure(error: ApiError) -> JSONResponse:
    return JSONResponse({"error": error.message}, status_code=error.status)


def routes(
    recognizers: Mapping[str, Recognizer], readers: Mapping[str, TextReader], concurrency: int = 4
) -> list[BaseRoute]:
    """The API's routes, for ``FastAPI(routes=...)``: at most ``concurrency`` pictures are read at once,
    in worker threads, so that a big photo never holds up the server's event loop."""
    router = APIRouter(prefix=PREFIX)
    limiter = anyio.CapacityLimiter(concurrency)

    async def answer(request: Request, reading: Callable[[dict[str, str]], Reading]) -> JSONResponse:
        """The picture read as ``reading(params)`` says (it checks the parameters, raising ApiError), in a
        worker thread; every refusal, and any bug of ours, answered in JSON."""
        try:
            data, params = await received_image(request)
            read = partial(reading(params), data)
            try:
                return JSONResponse(await anyio.to_thread.run_sync(read, limiter=limiter))
            except (NoInkError, InvalidImageError) as e:
                raise ApiError(422, str(e)) from None
        except ApiError as e:
            return failure(e)
        except Exception:  # noqa: BLE001 - a bug of ours: logged with its traceback, answered in JSON all the same
            log.exception("%s failed", request.url.path)
            return failure(ApiError(500, "Something went wrong on our side; it is logged. Please try again."))

    @router.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        """Read one character: {"label", "confidence", "top_k": [{"label", "confidence"}], "model"},
        and "warnings" when the picture may mislead the model."""

        def reading(params: dict[str, str]) -> Reading:
            recognizer, top_k = chosen(recognizers, params, lambda r: len(r.labels))
            return lambda data: as_json(recognizer.predict(data, top_k), recognizer.name)

        return await answer(request, reading)

    @router.post("/read")
    async def read(request: Request) -> JSONResponse:
        """Read a number, word or line: {"text", "confidence", "characters": [{"label", "confidence",
        "top_k", "span"}], "model"}; each character's top_k is [[label, confidence], ...] and its span the
        picture's first and last x that it covers."""

        def reading(params: dict[str, str]) -> Reading:
            reader, top_k = chosen(readers, params, lambda r: len(MODEL_LABELS[r.name]))
            return lambda data: {**reader.read(data, top_k).as_dict(), "model": reader.name}

        return await answer(request, reading)

    return router.routes


def chosen(models: Mapping[str, M], params: dict[str, str], most: Callable[[M], int]) -> tuple[M, int]:
    """The model and top_k the parameters ask for; top_k is at most ``most(model)``, its classes."""
    model = chosen_model(models, params.get("model"))
    return model, whole_number(params.get("top_k"), "top_k", DEFAULT_TOP_K, 1, most(model))


def as_json(prediction: Prediction, model: str) -> dict:
    answer = {
        "label": prediction.label,
        "confidence": prediction.confidence,
        "top_k": [{"label": label, "confidence": p} for label, p in prediction.top_k],
        "model": model,
    }
    warnings = [name for name, shown in (("several_characters", prediction.several_characters),
                                         ("thick_strokes", prediction.stroke_share > THICK_STROKES)) if shown]
    if warnings:
        answer["warnings"] = warnings
    return answer


def chosen_model(models: Mapping[str, M], name: str | None) -> M:
    wanted = (name or next(iter(models))).strip().lower()
    if wanted not in models:
        raise ApiError(400, f"Unknown model {name!r}. Choose one of: {', '.join(models)}.")
    return models[wanted]


def whole_number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}, not {value!r}.")
    return number


async def received_image(request: Request) -> tuple[bytes, dict[str, str]]:
    """The picture's bytes and the request's parameters (the query's, and a form's fields).

    The picture is the body itself (Content-Type image/..., or application/octet-stream) or a form's
    ``file`` field (multipart/form-data)."""
    params = dict(request.query_params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not (kind.startswith("image/") or kind in RAW_OR_FORM):
        raise ApiError(415, f"Send the picture itself, with Content-Type image/png (or image/jpeg...), or as "
                            f"the 'file' field of a multipart form; not {kind}.")
    body = await limited_body(request)
    if kind != "multipart/form-data":
        if not body:
            raise ApiError(400, "The request has no picture: its body is empty.")
        return body, params
    data = await form_file(request, body, params)
    if not data:
        raise ApiError(400, "The picture sent in the form field 'file' is empty.")
    return data, params


async def limited_body(request: Request) -> bytes:
    """The request's body, refused (413) once it is over MAX_BODY, before any more of it is read."""
    too_large = ApiError(413, f"The request is too large; the limit is {MAX_BODY // 2**20} MB.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def form_file(request: Request, body: bytes, params: dict[str, str]) -> bytes:
    """The ``file`` field of a multipart form already read into ``body``; its other fields go into
    ``params``."""

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    again = Request(request.scope, receive=replay)
    try:
        async with again.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
            if not isinstance(upload, UploadFile):
                raise ApiError(400, "The form has no picture: send it in a field named 'file'.")
            return await upload.read()
    except ApiError:
        raise
    except Exception:  # noqa: BLE001 - Starlette's multipart parser raises several kinds of error on bad forms
        raise ApiError(400, "The multipart form cannot be read.") from None

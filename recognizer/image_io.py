"""Turn whatever the caller has into a numpy image, safely.

Accepted: a Gradio sketchpad value (dict of background / layers / composite),
a PIL image, a numpy array, a file path, or raw bytes. Files are decoded with
Pillow under limits: a decompression bomb, a truncated file or a non-image is
refused with ``InvalidImageError`` before it can eat memory or time.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from recognizer.errors import InvalidImageError, NoInkError

MAX_PIXELS = 40_000_000
"""Refuse images with more pixels than this (a 40-megapixel photo is the largest we accept)."""

MAX_SIDE = 2048
"""Larger images are shrunk to this side on decoding: plenty for one character, and fast."""

MAX_BYTES = 50 * 1024 * 1024
"""Refuse files larger than this before reading them."""

SKETCHPAD_KEYS = ("background", "layers", "composite")


def load_image(value: Any) -> np.ndarray:
    """Return ``value`` as a numpy image: (H, W), (H, W, 3) or (H, W, 4).

    A sketchpad value becomes an RGBA image whose alpha is the union of the
    drawn layers, so that preprocessing reads the strokes and ignores the
    canvas; with no strokes on any layer it falls back to the composite (an
    image uploaded into the sketchpad, say).
    """
    if value is None:
        raise NoInkError("Nothing to read: draw a character or upload an image first.")
    if isinstance(value, dict):
        return _from_sketchpad(value)
    if isinstance(value, Image.Image):
        return _from_pil(value)
    if isinstance(value, np.ndarray):
        return _check_array(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return decode_bytes(bytes(value))
    if isinstance(value, (str, os.PathLike)):
        return decode_file(value)
    raise InvalidImageError(f"Cannot read an image from a {type(value).__name__}.")


def decode_file(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file, refusing missing, oversized and non-image files."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise InvalidImageError(f"File not found: {path.name}") from None
    if size > MAX_BYTES:
        raise InvalidImageError(f"The file is too large ({size // 2**20} MB); the limit is {MAX_BYTES // 2**20} MB.")
    return decode_bytes(path.read_bytes())


def decode_bytes(data: bytes) -> np.ndarray:
    """Decode image bytes with Pillow, under the size limits."""
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise InvalidImageError(f"The file is too large; the limit is {MAX_BYTES // 2**20} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(image.size)
            image.load()
            return _from_pil(image)
    except (InvalidImageError, NoInkError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImageError(
            f"The image is too large; the limit is {MAX_PIXELS // 1_000_000} megapixels."
        ) from None
    except UnidentifiedImageError:
        raise InvalidImageError(
            "This file is not an image we can read. Use PNG, JPEG, GIF, BMP, WebP or TIFF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError, struct.error):
        raise InvalidImageError("The image file is damaged or truncated and cannot be read.") from None


def _check_size(size: tuple[int, int]) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise InvalidImageError("The image is empty (it has no pixels).")
    if w * h > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is too large ({w}x{h} pixels); the limit is {MAX_PIXELS // 1_000_000} megapixels."
        )


def _from_pil(image: Image.Image) -> np.ndarray:
    """Normalise a PIL image: first frame, EXIF rotation applied, 8-bit grey/RGB/RGBA, bounded size."""
    _check_size(image.size)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK", "YCbCr", "P", "PA") and max(image.size) > MAX_SIDE:
        image.draft("RGB" if image.mode != "L" else "L", (MAX_SIDE, MAX_SIDE))  # fast JPEG downscale
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or a.max() > 255 else 255.0
        image = Image.fromarray(np.clip(a / top * 255.0, 0, 255).astype(np.uint8), "L")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    elif image.mode == "LA":
        image = image.convert("RGBA")
    elif image.mode not in ("L", "RGB", "RGBA"):
        image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
    return np.asarray(image)


def _check_array(a: np.ndarray) -> np.ndarray:
    if a.dtype == object:
        raise InvalidImageError("The image array holds Python objects, not pixels.")
    if a.ndim not in (2, 3) or a.size == 0:
        raise InvalidImageError(f"Expected an image array (H, W) or (H, W, C), got shape {a.shape}.")
    if a.shape[0] * a.shape[1] > MAX_PIXELS:
        raise InvalidImageError(f"The image is too large ({a.shape[1]}x{a.shape[0]} pixels).")
    return a


def _sketch_part(part: Any) -> np.ndarray | None:
    """One element of a sketchpad value as an array, or None when it is absent."""
    if part is None:
        return None
    if isinstance(part, dict) and "path" in part:  # a Gradio FileData dict
        part = part["path"]
    return load_image(part)


def _from_sketchpad(value: dict) -> np.ndarray:
    if not any(k in value for k in SKETCHPAD_KEYS):
        raise InvalidImageError("A sketchpad value needs 'layers', 'composite' or 'background'.")
    layers = value.get("layers") or []
    if not isinstance(layers, (list, tuple)):
        layers = [layers]
    alpha = None
    for layer in layers:
        a = _sketch_part(layer)
        if a is None or a.ndim != 3 or a.shape[2] != 4:
            continue
        a = a[:, :, 3]
        if alpha is None:
            alpha = a
        elif a.shape == alpha.shape:
            alpha = np.maximum(alpha, a)
    if alpha is not None and alpha.max() > 0:
        rgba = np.zeros(alpha.shape + (4,), dtype=np.uint8)
        rgba[:, :, 3] = _alpha_as_uint8(alpha)
        return rgba
    for key in ("composite", "background"):
        part = _sketch_part(value.get(key))
        if part is not None:
            return part
    raise NoInkError("The canvas is empty: draw a character first.")


def _alpha_as_uint8(alpha: np.ndarray) -> np.ndarray:
    if alpha.dtype == np.uint8:
        return alpha
    a = np.nan_to_num(alpha.astype(np.float32))
    if a.max() <= 1.0:
        a = a * 255.0
    return np.clip(a, 0, 255).astype(np.uint8)

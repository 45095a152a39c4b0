"""Turn whatever the caller has into a numpy image, safely.

Accepted: a Gradio sketchpad value (dict of background / layers / composite),
a PIL image, a numpy array, a file path, or raw bytes. Files are decoded with
Pillow under limits: a decompression bomb, a truncated file or a non-image is
refused with ``InvalidImageError`` before it can eat memory or time.
``tests/test_hostile_corpus.py`` sends every kind of bad input we know of
through here.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

try:  # libspng decodes a PNG in half Pillow's time; without it, Pillow decodes everything
    import pyspng
except ImportError:  # pragma: no cover - a platform with no pyspng wheel
    pyspng = None

from recognizer.errors import InvalidImageError, NoInkError
from recognizer.preprocess import MIN_CONTRAST, as_float_image

MAX_PIXELS = 40_000_000
"""Refuse images with more pixels than this (a 40-megapixel photo is the largest we accept)."""

MAX_SIDE = 2048
"""Larger images are shrunk to this side on decoding: plenty for one character, and fast."""

MAX_BYTES = 50 * 1024 * 1024
"""Refuse files larger than this before reading them."""

SKETCHPAD_KEYS = ("background", "layers", "composite")

T = TypeVar("T")

_OPAQUE = round(MIN_CONTRAST * 255)
"""An image whose alpha never falls below this has no transparent background to read ink against."""


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
    raise InvalidImageError(f"Cannot read an image from a value of type {type(value).__name__}.")


def decode_file(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file, refusing missing, oversized and non-image files.

    Reads at most MAX_BYTES + 1 bytes, so that a device such as /dev/zero
    (whose size is 0) cannot keep us reading forever.
    """
    return decode_bytes(_read_file(path))


def decode_bytes(data: bytes) -> np.ndarray:
    """Decode image bytes under the size limits: a plain PNG with libspng (``_plain_png``), anything
    else with Pillow."""
    return _decoded(data, _from_pil)


_PLAIN_PNG_MODES = {0: "L", 2: "RGB", 6: "RGBA"}
"""PNG colour types libspng decodes here, with the Pillow mode each gives: grey, RGB and RGBA."""


def _plain_png(image: Image.Image, data: bytes) -> Image.Image | None:
    """A plain PNG, decoded by libspng, as the Pillow image Pillow itself would have decoded; None for
    anything else. A browser's canvas export is the commonest upload, and decoding it was a third of
    a prediction's time (issue 29).

    Plain: 8 bits a channel, grey, RGB or RGBA (read from the IHDR chunk, which comes first), one
    frame, no EXIF (a rotation to apply), no larger than MAX_SIDE. Both decoders ignore a tRNS colour
    key and gamma, so they give the same pixels (``tests/test_image_io.py`` compares them).
    """
    if pyspng is None or image.format != "PNG" or max(image.size) > MAX_SIDE:
        return None
    if data[12:16] != b"IHDR" or data[24] != 8 or data[25] not in _PLAIN_PNG_MODES:
        return None
    if getattr(image, "is_animated", False) or b"eXIf" in data:  # eXIf may follow the pixels
        return None
    return Image.fromarray(pyspng.load(data, _PLAIN_PNG_MODES[data[25]]))


def _read_file(path: str | os.PathLike) -> bytes:
    """The bytes of a file, or InvalidImageError saying why they cannot be had."""
    name = _short(os.fspath(path))
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            raise InvalidImageError(
                f"The file is too large ({size // 2**20} MB); the limit is {MAX_BYTES // 2**20} MB."
            )
        with open(path, "rb") as f:
            return f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InvalidImageError(f"File not found: {name}") from None
    except IsADirectoryError:
        raise InvalidImageError(f"This is a folder, not an image file: {name}") from None
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        raise InvalidImageError(f"Cannot open the file {name}.") from None


def _decoded(data: bytes, convert: Callable[[Image.Image], T]) -> T:
    """``convert`` applied to the image in ``data``, opened under the size limits and decoded by
    libspng if it is a plain PNG (``_plain_png``), else by Pillow; whatever goes wrong on the way
    becomes an InvalidImageError with a message for people."""
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise InvalidImageError(f"The file is too large; the limit is {MAX_BYTES // 2**20} MB.")
    try:
        image = Image.open(io.BytesIO(data))
        _check_size(image.size)
        decoded = _plain_png(image, data)
        if decoded is not None:
            return convert(decoded)
        image.draft(None, (MAX_SIDE, MAX_SIDE))  # JPEG only: decode big photos at 1/2, 1/4 or 1/8 size
        image.load()
        return convert(image)
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
    except Exception:  # noqa: BLE001 - Pillow's many format plugins raise many kinds of error on bad files
        raise InvalidImageError("The image file is damaged or truncated and cannot be read.") from None


def _short(name: str, limit: int = 60) -> str:
    """A file name short enough to show in a message."""
    name = Path(name.replace("\x00", "")).name or name
    return name if len(name) <= limit else name[: limit - 3] + "..."


def _check_size(size: tuple[int, int]) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise InvalidImageError("The image is empty (it has no pixels).")
    if w * h > MAX_PIXELS:
        raise InvalidImageError(
            f"The image is too large ({w}x{h} pixels); the limit is {MAX_PIXELS // 1_000_000} megapixels."
        )


def _from_pil(image: Image.Image) -> np.ndarray:
    """A PIL image as an array: first frame, EXIF rotation applied, at most MAX_SIDE, and one of
    uint8 grey, RGB or RGBA (with a transparent background), or float32 grey in [0, 1]."""
    _check_size(image.size)
    if getattr(image, "is_animated", False):
        image.seek(0)
    try:
        image = _upright(image)
        if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
            return _deep_grey(image)
        if image.mode == "P":
            target = "RGBA" if "transparency" in image.info else "RGB"
        else:
            target = _EIGHT_BIT.get(image.mode, "RGB")
        if image.mode != target:
            image = image.convert(target)
        if image.mode == "RGBA":
            image = _flatten_if_opaque(image)
        if max(image.size) > MAX_SIDE:  # a new image: the caller's own PIL image is never changed
            image = ImageOps.contain(image, (MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
        return np.asarray(image)
    except (ValueError, OSError) as e:  # a mode Pillow cannot convert, or a lazy file that fails to load
        raise InvalidImageError(
            f"The image cannot be read: it is damaged, or its pixel format ({image.mode}) is not supported."
        ) from e


_EIGHT_BIT = {
    "L": "L", "1": "L", "RGB": "RGB", "RGBA": "RGBA", "LA": "RGBA", "La": "RGBA", "PA": "RGBA", "RGBa": "RGBA"
}
"""The 8-bit mode each Pillow mode becomes; anything else (CMYK, YCbCr, LAB, HSV, RGBX...) becomes RGB."""


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, as phones expect; a damaged EXIF block is ignored, not fatal."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image  # exif_transpose would return a copy
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - EXIF parsing raises whatever a damaged block provokes
        return image


def _flatten_if_opaque(image: Image.Image) -> Image.Image:
    """An RGBA image with no transparent background becomes grey or RGB, as it looks on white paper.

    Preprocessing reads ink from alpha whenever there is any transparency, which
    only works if the background is transparent; a uniformly half-transparent
    scan must be read by its colours instead. Images with a transparent
    background (a sketchpad layer, a logo-style PNG) are returned as they are.

    A fully opaque one (a browser's canvas export, the commonest upload) goes
    straight to grey, which is all that preprocessing reads of it: Pillow's
    grey uses preprocessing's own weights, so a black-on-white canvas gives the
    same pixels, and a third of the bytes to copy and convert (issue 29).
    """
    lowest = image.getchannel("A").getextrema()[0]
    if lowest == 255:
        return image.convert("L")
    if lowest >= _OPAQUE:
        return Image.alpha_composite(Image.new("RGBA", image.size, "white"), image).convert("RGB")
    return image


def _deep_grey(image: Image.Image) -> np.ndarray:
    """A 16-bit, 32-bit integer or float image as float32 grey in [0, 1] (NaN kept: preprocessing refuses it).

    Integers are read as 16-bit when any value exceeds 255, and as 8-bit
    values in a wider container otherwise (what ``convert("I")`` makes).
    """
    if image.mode == "F":
        a = np.asarray(image, dtype=np.float32)
    else:
        a = np.asarray(image).astype(np.float32)
        a = np.clip(a / (65535.0 if a.max() > 255 else 255.0), 0.0, 1.0)
    if max(a.shape) > MAX_SIDE:
        a = np.asarray(ImageOps.contain(Image.fromarray(a), (MAX_SIDE, MAX_SIDE), Image.Resampling.BOX))
    return a


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
    if isinstance(part, dict):
        if "path" not in part:
            raise InvalidImageError("A sketchpad layer must be an image, not a dictionary.")
        part = part["path"]  # a Gradio FileData dict
    return load_image(part)


def _layer_alpha(layer: Any) -> np.ndarray | None:
    """A sketchpad layer's alpha as uint8 (H, W), or None for a layer that is absent or not RGBA.

    A layer still encoded (PNG bytes or a file, as app.py's sketchpad hands it over) has only its
    alpha channel taken out: the strokes are all that is read of it.
    """
    if isinstance(layer, dict):
        if "path" not in layer:
            raise InvalidImageError("A sketchpad layer must be an image, not a dictionary.")
        layer = layer["path"]  # a Gradio FileData dict
    if isinstance(layer, (str, os.PathLike)):
        layer = _read_file(layer)
    if isinstance(layer, (bytes, bytearray, memoryview)):
        return _decoded(bytes(layer), _alpha_channel)
    a = _sketch_part(layer)
    if a is None or a.ndim != 3 or a.shape[2] != 4:
        return None
    return np.ascontiguousarray(_alpha_as_uint8(a[:, :, 3]))  # reducing a strided view is 5x slower


def _alpha_channel(image: Image.Image) -> np.ndarray | None:
    """The alpha of an image with one (RGBA, LA, a palette with transparency) as uint8 (H, W), as
    ``_from_pil`` would orient and shrink it; None for any other, or an alpha with no transparent
    background, which ``_from_pil`` would flatten (such a layer is skipped)."""
    _check_size(image.size)
    if image.mode != "RGBA":
        if _EIGHT_BIT.get(image.mode) != "RGBA" and not (image.mode == "P" and "transparency" in image.info):
            return None
        image = image.convert("RGBA")
    alpha = _upright(image).getchannel("A")
    if alpha.getextrema()[0] >= _OPAQUE:
        return None
    if max(alpha.size) > MAX_SIDE:
        alpha = ImageOps.contain(alpha, (MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
    return np.asarray(alpha)


def _from_sketchpad(value: dict) -> np.ndarray:
    if not any(k in value for k in SKETCHPAD_KEYS):
        raise InvalidImageError("A sketchpad value needs 'layers', 'composite' or 'background'.")
    strokes = sketchpad_strokes(value)
    if strokes is not None:
        return strokes[0]
    for key in ("composite", "background"):
        part = _sketch_part(value.get(key))
        if part is not None:
            return part
    raise NoInkError("The canvas is empty: draw a character first.")


def sketchpad_strokes(value: dict) -> tuple[np.ndarray, int] | None:
    """A sketchpad value's strokes as an RGBA picture cropped to them, and the crop's left x on the
    canvas (so that a reading's place can be given on the canvas); None when no layer has a stroke."""
    alpha = _strokes(value.get("layers"))
    if alpha is None:
        return None
    return _strokes_only(alpha)


def _strokes(layers: Any) -> np.ndarray | None:
    """The union of the layers' alphas as uint8 (H, W), or None when no layer has a stroke.

    Layers that are not RGBA, or not the size of the first, are skipped.
    """
    if not isinstance(layers, (list, tuple)):
        layers = [layers] if layers is not None else []
    alpha = None
    for layer in layers:
        a = _layer_alpha(layer)
        if a is None:
            continue
        if alpha is None:
            alpha = a
        elif a.shape == alpha.shape:
            alpha = np.maximum(alpha, a)
    return alpha if alpha is not None and alpha.any() else None


def _strokes_only(alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """An RGBA image holding ``alpha``, cropped to the strokes (with a one-pixel margin, where there
    is room), and the crop's left x in ``alpha``.

    Preprocessing crops to the ink anyway, and gives the same result on the
    crop; cropping here spares it converting a whole 800x800 canvas to float.
    """
    rows = np.flatnonzero(alpha.max(axis=1))
    cols = np.flatnonzero(alpha.max(axis=0))
    top, left = max(int(rows[0]) - 1, 0), max(int(cols[0]) - 1, 0)
    alpha = alpha[top : int(rows[-1]) + 2, left : int(cols[-1]) + 2]
    rgba = np.zeros(alpha.shape + (4,), dtype=np.uint8)
    rgba[:, :, 3] = alpha
    return rgba, left


def _alpha_as_uint8(alpha: np.ndarray) -> np.ndarray:
    """A layer's alpha as uint8; float alphas may be on a 0-1 or a 0-255 scale."""
    if alpha.dtype == np.uint8:
        return alpha
    if np.issubdtype(alpha.dtype, np.integer) and alpha.max() <= 1:
        alpha = alpha.astype(bool)  # a 0/1 mask
    return np.round(as_float_image(alpha) * 255.0).astype(np.uint8)

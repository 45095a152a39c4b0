"""PNG decoding: libspng's fast path gives exactly what Pillow gives, and takes only the PNGs it can."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from recognizer import image_io

pytest.importorskip("pyspng")


def _png(image: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **params)
    return buf.getvalue()


def _drawing(mode: str, size: tuple[int, int] = (120, 90)) -> Image.Image:
    """A ring of varied colour on a background: every channel, and alpha, takes many values."""
    h, w = size[1], size[0]
    ys, xs = np.indices((h, w))
    ring = np.abs(np.hypot(ys - h / 2, xs - w / 2) - h / 3) < 6
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 0] = (xs * 255 // w).astype(np.uint8)
    rgba[..., 1] = (ys * 255 // h).astype(np.uint8)
    rgba[..., 2] = np.where(ring, 20, 240)
    rgba[..., 3] = np.where(ring, 255, 0)
    return Image.fromarray(rgba).convert(mode) if mode != "RGBA" else Image.fromarray(rgba)


def _opaque_rgba() -> Image.Image:
    image = _drawing("RGBA")
    image.putalpha(255)
    return image


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    return _png(_drawing("RGB"), exif=exif)


def _animated() -> bytes:
    frames = [_drawing("RGB"), _drawing("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return _png(frames[0], save_all=True, append_images=frames[1:])


PLAIN = {
    "grey": lambda: _png(_drawing("L")),
    "rgb": lambda: _png(_drawing("RGB")),
    "rgba, transparent background": lambda: _png(_drawing("RGBA")),
    "rgba, opaque (a canvas export)": lambda: _png(_opaque_rgba()),
    "rgb with a tRNS colour key": lambda: _png(_drawing("RGB"), transparency=(20, 20, 20)),
    "grey with a tRNS level": lambda: _png(_drawing("L"), transparency=0),
}
OTHERS = {
    "16-bit grey": lambda: _png(_drawing("L").convert("I;16")),
    "palette": lambda: _png(_drawing("RGB").convert("P")),
    "1-bit": lambda: _png(_drawing("L").convert("1")),
    "grey with alpha": lambda: _png(_drawing("LA")),
    "exif-rotated": _exif_rotated,
    "animated": _animated,
    "larger than MAX_SIDE": lambda: _png(_drawing("RGB", (image_io.MAX_SIDE + 10, 40))),
}


@pytest.fixture
def spng_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each libspng decode (the real one runs)."""
    calls: list[str] = []
    real = image_io.pyspng.load

    def load(data: bytes, fmt: str | None = None) -> np.ndarray:
        calls.append(fmt)
        return real(data, fmt)

    monkeypatch.setattr(image_io.pyspng, "load", load)
    return calls


def _with_pillow_only(data: bytes, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    with monkeypatch.context() as m:
        m.setattr(image_io, "pyspng", None)
        return image_io.decode_bytes(data)


@pytest.mark.parametrize("kind", PLAIN)
def test_plain_pngs_take_libspng_and_decode_as_pillow_does(
    kind: str, spng_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = PLAIN[kind]()
    fast = image_io.decode_bytes(data)
    assert spng_calls, "a plain PNG should be decoded by libspng"
    slow = _with_pillow_only(data, monkeypatch)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("kind", OTHERS)
def test_other_pngs_are_left_to_pillow(
    kind: str, spng_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = OTHERS[kind]()
    out = image_io.decode_bytes(data)
    assert not spng_calls, f"{kind}: libspng would miss what Pillow applies"
    np.testing.assert_array_equal(out, _with_pillow_only(data, monkeypatch))


def test_an_exif_rotation_is_applied() -> None:
    assert image_io.decode_bytes(_exif_rotated()).shape[:2] == (120, 90)  # turned from 90x120


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_plain_png_is_refused_with_a_message(cut: float) -> None:
    data = _png(_opaque_rgba())
    with pytest.raises(image_io.InvalidImageError, match="damaged or truncated"):
        image_io.decode_bytes(data[: int(len(data) * cut)])

"""Hostile inputs for the recognizer: the ways an upload or a sketchpad value can be wrong.

    python tests/corpus/make_corpus.py OUT_DIR      # write the file cases, to look at them

Nothing binary is committed: every case is built here, the same way each time
(fixed seeds, real MNIST digits from tests/fixtures). A ``Case`` is either a
file, sent both to ``Recognizer.predict`` and through the app's upload, or an
in-memory value (a sketchpad dict, an array, a PIL image) that only Python
callers can send. ``expect`` says what must happen: a prediction (of ``label``
when the answer is known), ``NoInkError``, ``InvalidImageError``, or any of the
three (damaged files that may or may not still decode).
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.inputs import encode, mnist_digit, paper_photo, unipen_samples, unipen_sketch  # noqa: E402
from tests.helpers import sketchpad_value  # noqa: E402

READ = "read"
NO_INK = "no ink"
INVALID = "invalid"
ANY = "any"


@dataclass(frozen=True)
class Case:
    name: str
    expect: str
    """READ, NO_INK, INVALID or ANY."""
    build: Callable[[Path], Any]
    """Makes the input; gets a scratch folder for the few values that must point at a file."""
    label: str | None = None
    """The label the digits model must read, where the right answer is known."""
    is_file: bool = False
    """True when ``build`` returns the bytes of a file named ``name``."""


# -- building blocks -----------------------------------------------------------------------------


def scan(label: int, side: int = 280, nth: int = 0) -> Image.Image:
    """A real MNIST digit as a scan: black ink on white paper, ``side`` pixels square, greyscale."""
    ink = Image.fromarray(mnist_digit(label, nth)).resize((side, side), Image.Resampling.BILINEAR)
    return Image.fromarray(255 - np.asarray(ink), "L")


def ink(label: int, side: int = 280) -> np.ndarray:
    """A real MNIST digit, white on black, ``side`` pixels square: what a sketchpad layer's alpha holds."""
    return 255 - np.asarray(scan(label, side))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header(width: int, height: int, idat: bytes, bit_depth: int = 1) -> bytes:
    """A greyscale PNG whose IHDR claims ``width`` x ``height``, with the given compressed data."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_bomb(side: int = 30_000) -> bytes:
    """A complete, valid 1-bit ``side`` x ``side`` PNG of zeros: 900 megapixels in about 110 KB."""
    row = bytes(1 + (side + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return png_with_header(side, side, idat)


def exif_rotated(label: int, fmt: str) -> bytes:
    """A digit stored lying on its side, with the EXIF orientation (6) telling viewers to turn it upright."""
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    return encode(scan(label).rotate(90, expand=True), fmt, exif=exif.tobytes())


def palette_digit(label: int, transparent: bool) -> bytes:
    """A two-colour palette PNG: black ink (index 1) on white paper (index 0), transparent or not."""
    mask = np.asarray(scan(label)) < 128
    image = Image.fromarray(mask.astype(np.uint8), "P")
    image.putpalette([255, 255, 255, 0, 0, 0])
    return encode(image, "PNG", **({"transparency": 0} if transparent else {}))


def sixteen_bit(label: int) -> bytes:
    """A 16-bit greyscale PNG scan (values 0-65535)."""
    a = np.asarray(scan(label)).astype(np.uint16) * 257
    return encode(Image.fromarray(a), "PNG")  # uint16 gives mode I;16


def float_tiff(label: int, nan: bool = False) -> bytes:
    """A 32-bit float TIFF with ink in [0, 1] (the way scientific scanners save), optionally with NaNs."""
    a = ink(label).astype(np.float32) / 255
    if nan:
        a[::7, ::5] = np.nan
    return encode(Image.fromarray(a, "F"), "TIFF")


def rgba_digit(label: int, alpha: int) -> bytes:
    """An RGBA PNG: the digit in black on white in RGB, with a uniform ``alpha``."""
    rgb = np.asarray(scan(label).convert("RGB"))
    a = np.full(rgb.shape[:2] + (1,), alpha, np.uint8)
    return encode(Image.fromarray(np.concatenate([rgb, a], axis=2), "RGBA"), "PNG")


def animated_gif(first: int, second: int, frames: int = 2) -> bytes:
    images = [scan(first)] + [scan(second)] * (frames - 1)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def huge_scan(label: int, size: tuple[int, int], fmt: str) -> bytes:
    """A digit scan of ``size`` (up to the 40-megapixel limit), the digit a quarter of the height."""
    w, h = size
    paper = Image.new("L", size, 255)
    side = h // 4
    paper.paste(scan(label, side), (w // 3, h // 3))
    if fmt == "PNG":
        return encode(paper.convert("1"), "PNG")
    return encode(paper, fmt, quality=85)


def fuzzed(data: bytes, seed: int, flips: int = 12) -> bytes:
    """``data`` with ``flips`` random bytes changed past the first 16 (the signature stays)."""
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    for i in rng.integers(16, len(b), flips):
        b[i] = int(rng.integers(0, 256))
    return bytes(b)


def noise(size: tuple[int, int], seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, size[::-1], dtype=np.uint8), "L")


def jpeg_with_bad_exif(label: int) -> bytes:
    return encode(scan(label), "JPEG", exif=b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xf0" + bytes(range(40)))


def cmyk_jpeg(label: int) -> bytes:
    return encode(scan(label).convert("CMYK"), "JPEG", quality=95)


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
       b'<path d="M4 4 L24 4 L12 24" stroke="black"/></svg>')
HEIC_HEADER = struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00mif1heic"
SMALL_IDAT = zlib.compress(bytes(4000))
PIL_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16",
             "F")


# -- the cases -----------------------------------------------------------------------------------


def _file(name: str, expect: str, build: Callable[[], bytes], label: str | None = None) -> Case:
    return Case(name, expect, lambda _tmp: build(), label, is_file=True)


def file_cases() -> list[Case]:
    """Files a user might upload, hostile or odd, each with what must happen."""
    s7 = lambda: scan(7)  # noqa: E731
    return [
        # not images at all
        _file("empty.png", INVALID, lambda: b""),
        _file("text_renamed.png", INVALID, lambda: b"This is a shopping list, not a picture.\n" * 20),
        _file("drawing.svg", INVALID, lambda: SVG),
        _file("photo.heic", INVALID, lambda: HEIC_HEADER + bytes(200)),
        _file("document.pdf", INVALID, lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"),
        _file("archive.zip", INVALID, lambda: b"PK\x03\x04" + bytes(60)),
        _file("random_bytes.bin", INVALID, lambda: np.random.default_rng(1).bytes(4096)),
        _file("png_signature_only.png", INVALID, lambda: b"\x89PNG\r\n\x1a\n"),
        _file("jpeg_soi_only.jpg", INVALID, lambda: b"\xff\xd8\xff"),
        # damaged
        _file("truncated.png", INVALID, lambda: encode(noise((200, 200)), "PNG")[:20_000]),
        _file("truncated.jpg", INVALID, lambda: encode(noise((200, 200)), "JPEG")[:3_000]),
        _file("truncated.gif", ANY, lambda: encode(s7(), "GIF")[:1_500]),
        _file("zero_width.png", INVALID, lambda: png_with_header(0, 10, zlib.compress(bytes(10)))),
        *[_file(f"fuzzed_{i}.{fmt.lower()}", ANY, lambda fmt=fmt, i=i: fuzzed(encode(scan(i % 10), fmt), i))
          for i, fmt in enumerate(["PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP", "PNG", "JPEG"])],
        # too large
        _file("bomb_30000_header.png", INVALID, lambda: png_with_header(30_000, 30_000, SMALL_IDAT)),
        _file("bomb_30000_full.png", INVALID, png_bomb),
        _file("bomb_65000.jpg", INVALID, lambda: _jpeg_with_size(encode(s7(), "JPEG"), 65_000, 65_000)),
        _file("over_40mp_header.png", INVALID, lambda: png_with_header(8000, 6000, SMALL_IDAT)),
        _file("bomb_20000.gif", INVALID, lambda: _gif_with_size(encode(s7(), "GIF"), 20_000, 20_000)),
        # odd shapes and blanks
        _file("1x1.png", NO_INK, lambda: encode(Image.new("L", (1, 1), 0), "PNG")),
        _file("1x10000.png", ANY, lambda: encode(_line((10_000, 1)), "PNG")),
        _file("10000x1.png", ANY, lambda: encode(_line((1, 10_000)), "PNG")),
        _file("all_white.png", NO_INK, lambda: encode(Image.new("L", (400, 300), 255), "PNG")),
        _file("all_black.jpg", NO_INK, lambda: encode(Image.new("RGB", (400, 300), 0), "JPEG")),
        _file("all_grey.webp", NO_INK, lambda: encode(Image.new("RGB", (64, 64), (128, 128, 128)), "WEBP")),
        _file("fully_transparent.png", NO_INK, lambda: rgba_digit(3, alpha=0)),
        _file("noise.png", ANY, lambda: encode(noise((300, 300)), "PNG")),
        # formats and modes with a known answer
        _file("scan_7.png", READ, lambda: encode(s7(), "PNG"), "7"),
        _file("exif_rotated_7.jpg", READ, lambda: exif_rotated(7, "JPEG"), "7"),
        _file("exif_rotated_7.png", READ, lambda: exif_rotated(7, "PNG"), "7"),
        _file("bad_exif_2.jpg", READ, lambda: jpeg_with_bad_exif(2), "2"),
        _file("palette_transparent_4.png", READ, lambda: palette_digit(4, transparent=True), "4"),
        _file("palette_opaque_4.png", READ, lambda: palette_digit(4, transparent=False), "4"),
        _file("sixteen_bit_5.png", READ, lambda: sixteen_bit(5), "5"),
        _file("cmyk_6.jpg", READ, lambda: cmyk_jpeg(6), "6"),
        _file("progressive_3.jpg", READ, lambda: encode(scan(3), "JPEG", progressive=True), "3"),
        _file("half_transparent_8.png", READ, lambda: rgba_digit(8, alpha=128), "8"),
        _file("opaque_rgba_8.png", READ, lambda: rgba_digit(8, alpha=255), "8"),
        _file("grey_alpha_9.png", READ, lambda: encode(scan(9).convert("LA"), "PNG"), "9"),
        _file("animated_3_then_8.gif", READ, lambda: animated_gif(3, 8), "3"),
        _file("animated_300_frames_0.gif", READ, lambda: animated_gif(0, 8, frames=300), "0"),
        _file("lossy_1.webp", READ, lambda: encode(scan(1), "WEBP", quality=60), "1"),
        _file("lossless_2.webp", READ, lambda: encode(scan(2), "WEBP", lossless=True), "2"),
        _file("lzw_9.tiff", READ, lambda: encode(scan(9), "TIFF", compression="tiff_lzw"), "9"),
        _file("float_0_1_4.tiff", READ, lambda: float_tiff(4), "4"),
        _file("float_nan_4.tiff", INVALID, lambda: float_tiff(4, nan=True)),
        _file("multipage_5.tiff", READ,
              lambda: encode(scan(5), "TIFF", save_all=True, append_images=[scan(1)]), "5"),
        _file("scan_0.bmp", READ, lambda: encode(scan(0), "BMP"), "0"),
        _file("scan_6.ppm", READ, lambda: encode(scan(6).convert("RGB"), "PPM"), "6"),
        _file("scan_2.tga", READ, lambda: encode(scan(2), "TGA"), "2"),
        _file("scan_3.jp2", READ, lambda: encode(scan(3).convert("RGB"), "JPEG2000"), "3"),
        _file("scan_1.avif", READ, lambda: encode(scan(1).convert("RGB"), "AVIF", quality=90), "1"),
        _file("bilevel_8.png", READ, lambda: encode(scan(8).convert("1"), "PNG"), "8"),
        _file("photo_1200x900_2.jpg", READ,
              lambda: encode(paper_photo(mnist_digit(2)), "JPEG", quality=85), "2"),
        _file("photo_40mp_7.jpg", READ, lambda: huge_scan(7, (8000, 5000), "JPEG"), "7"),
        _file("scan_36mp_3.png", READ, lambda: huge_scan(3, (6000, 6000), "PNG"), "3"),
    ]


def value_cases() -> list[Case]:
    """In-memory values only Python callers send: sketchpad dicts, arrays, PIL images, paths, objects."""
    seven = unipen_samples("7")[0]

    def sketch(**changes: Any) -> Callable[[Path], dict]:
        return lambda _tmp: {**unipen_sketch(seven), **changes}

    def layer(a: np.ndarray) -> Callable[[Path], dict]:
        return lambda _tmp: {**unipen_sketch(seven), "layers": [a]}

    alpha = lambda: unipen_sketch(seven)["layers"][0][:, :, 3]  # noqa: E731

    def typed_layer(a: np.ndarray) -> np.ndarray:
        out = np.zeros(a.shape + (4,), dtype=a.dtype)
        out[:, :, 3] = a
        return out

    def value(make: Callable[[], Any]) -> Callable[[Path], Any]:
        return lambda _tmp: make()

    def pil(mode: str) -> Callable[[Path], Image.Image]:
        return lambda _tmp: scan(6).convert(mode)

    nested: dict = {"layers": []}
    for _ in range(5000):
        nested = {"layers": [nested]}
    return [
        # sketchpad values
        Case("sketch_800_unipen_7", READ, sketch(), "7"),
        Case("sketch_4000x3000_unipen_7", READ,
             lambda _tmp: unipen_sketch(seven, (4000, 3000), brush=60), "7"),
        Case("sketch_empty_canvas", NO_INK, lambda _tmp: sketchpad_value(np.zeros((800, 800), np.uint8))),
        Case("sketch_no_keys", INVALID, value(dict)),
        Case("sketch_wrong_keys", INVALID, value(lambda: {"image": None, "mask": None})),
        Case("sketch_all_none", NO_INK,
             value(lambda: {"background": None, "layers": None, "composite": None})),
        Case("sketch_layers_none_composite_7", READ, sketch(layers=[None, None]), "7"),
        Case("sketch_layers_missing_composite_7", READ,
             lambda _tmp: {k: v for k, v in unipen_sketch(seven).items() if k != "layers"}, "7"),
        Case("sketch_layer_float_0_1", READ, layer(typed_layer(alpha().astype(np.float64) / 255)), "7"),
        Case("sketch_layer_bool", READ, layer(typed_layer(alpha() > 0)), "7"),
        Case("sketch_layer_int64", READ, layer(typed_layer(alpha().astype(np.int64))), "7"),
        Case("sketch_layer_nan", INVALID, layer(typed_layer(np.where(alpha() > 0, 1.0, np.nan)))),
        Case("sketch_layer_nested_lists", INVALID, sketch(layers=[[[0, 0, 0, 255]] * 3] * 3)),
        Case("sketch_layer_wrong_shape", READ, sketch(layers=[np.zeros((10, 10, 4), np.uint8)]), "7"),
        Case("sketch_layer_rgb_not_rgba", READ, sketch(layers=[np.zeros((800, 800, 3), np.uint8)]), "7"),
        Case("sketch_layer_string", INVALID, sketch(layers="not a layer")),
        Case("sketch_layer_missing_file", INVALID, sketch(layers=[{"path": "/nonexistent/layer.png"}])),
        Case("sketch_layer_file_data", READ, lambda tmp: {
            "background": None, "composite": None, "layers": [{"path": _write(tmp / "layer.png", encode(
                Image.fromarray(unipen_sketch(seven)["layers"][0], "RGBA"), "PNG"))}]}, "7"),
        Case("sketch_nested_5000_deep", INVALID, value(lambda: nested)),
        Case("sketch_10000x10000_view", INVALID,  # a view: no memory, but 100 megapixels
             value(lambda: {"layers": [np.broadcast_to(np.zeros((1, 1, 4), np.uint8), (10**4, 10**4, 4))]})),
        # arrays
        Case("array_mnist_7", READ, value(lambda: mnist_digit(7)), "7"),
        Case("array_float_0_255_7", READ, value(lambda: mnist_digit(7).astype(np.float64)), "7"),
        Case("array_float16_7", READ, value(lambda: (mnist_digit(7) / 255).astype(np.float16)), "7"),
        Case("array_uint16_7", READ, value(lambda: mnist_digit(7).astype(np.uint16) * 257), "7"),
        Case("array_bool_7", READ, value(lambda: mnist_digit(7) > 100), "7"),
        Case("array_nan", INVALID, value(lambda: np.where(mnist_digit(7) > 0, np.nan, 0.0))),
        Case("array_inf", INVALID, value(lambda: np.where(mnist_digit(7) > 0, np.inf, 0.0))),
        Case("array_5_channels", INVALID, value(lambda: np.zeros((28, 28, 5), np.uint8))),
        Case("array_1d", INVALID, value(lambda: np.zeros(784, np.uint8))),
        Case("array_4d", INVALID, value(lambda: np.zeros((1, 28, 28, 1), np.uint8))),
        Case("array_empty", INVALID, value(lambda: np.zeros((0, 0), np.uint8))),
        Case("array_objects", INVALID, value(lambda: np.full((28, 28), None, dtype=object))),
        Case("array_complex", INVALID, value(lambda: mnist_digit(7).astype(np.complex64))),
        Case("array_strings", INVALID, value(lambda: np.full((28, 28), "x"))),
        # PIL images in every mode
        *[Case(f"pil_{mode}_6", READ, pil(mode), "6")
          for mode in PIL_MODES],
        # paths, bytes and other objects
        Case("bytes_png_7", READ, value(lambda: encode(scan(7), "PNG")), "7"),
        Case("memoryview_png_7", READ, value(lambda: memoryview(encode(scan(7), "PNG"))), "7"),
        Case("path_png_7", READ, lambda tmp: _write(tmp / "seven.png", encode(scan(7), "PNG")), "7"),
        Case("path_missing", INVALID, value(lambda: "/nonexistent/digit.png")),
        Case("path_directory", INVALID, lambda tmp: str(tmp)),
        Case("path_with_nul", INVALID, value(lambda: "digit\x00.png")),
        Case("path_too_long", INVALID, value(lambda: "d" * 10_000 + ".png")),
        *([Case("path_dev_zero", INVALID, value(lambda: "/dev/zero"))] if Path("/dev/zero").exists() else []),
        Case("object_int", INVALID, value(lambda: 7)),
        Case("object_list", INVALID, value(lambda: [[0, 255], [255, 0]])),
        Case("object_none", NO_INK, value(lambda: None)),
    ]


def all_cases() -> list[Case]:
    return file_cases() + value_cases()


# -- helpers -------------------------------------------------------------------------------------


def _line(size: tuple[int, int]) -> Image.Image:
    """A white strip with a black dash in its middle third."""
    a = np.full(size[::-1], 255, np.uint8).reshape(-1)
    a[len(a) // 3 : 2 * len(a) // 3] = 0
    return Image.fromarray(a.reshape(size[::-1]), "L")


def _jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a baseline JPEG) with its frame header changed to claim ``width`` x ``height``."""
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]


def _gif_with_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a GIF) with its logical screen changed to claim ``width`` x ``height``."""
    return data[:6] + struct.pack("<HH", width, height) + data[10:]


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def write_files(folder: Path, cases: list[Case] | None = None) -> dict[str, Path]:
    """Write every file case into ``folder``; return {case name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases or file_cases():
        paths[case.name] = folder / case.name
        paths[case.name].write_bytes(case.build(folder))
    return paths


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus_out")
    for name, path in write_files(out).items():
        print(f"{path.stat().st_size:>10,d}  {name}")

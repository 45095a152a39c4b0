"""Lines of writing for the line model: real UniPen words and text lines, and lines rebuilt or composed
from UniPen's single characters, drawn as the app receives them and read through the shared
``recognizer.preprocess.text_line.to_line_input``.

Kinds of line (each is also a column of the evaluation):

- ``word``: a real pen-written word (UniPen categories 6 and 7: print, cursive and mixed);
- ``number``: a real word that is a number of two or more digits (phone numbers, dates, amounts);
- ``text``: a real text line (category 8) of at most MAX_TEXT characters;
- ``rebuilt``: a writer's consecutive characters that lie on one line on their tablet (a shared
  baseline, growing x): block-letter words and digit strings with real gaps and real sizes;
- ``digits``: a random digit string composed of one writer's digits, at their real sizes.

Each is drawn either as a sketch (a round brush on a transparent canvas, as the sketchpad hands it
over) or as a photo or scan (dark ink on paper: grain, uneven light, ruled lines, JPEG).
Writers are split into train, validation and test as the single-character models split them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from recognizer.errors import NoInkError
from recognizer.image_io import load_image
from recognizer.labels import BYCLASS
from recognizer.preprocess.text_line import line_from_ink, to_line_input
from training.data import unipen
from training.data.base import CACHE_DIR, writer_split

WORDS_PATH = Path("../shared/data/unipen/unipen_words_dev.jsonl.gz")
LINE_ALPHABET = "".join(BYCLASS) + " "
"""What the line model writes: 0-9, A-Z, a-z and a space. Punctuation is read as nothing."""
MAX_TEXT = 40
"""Longer text lines are left out: the model reads a line of up to about this many characters."""
WRITER_FRACTIONS, SPLIT_SEED = (0.075, 0.075), 42
"""As ``training.datasets`` splits the single-character writers, so that both agree on a writer."""
KINDS = ("word", "number", "text", "rebuilt", "digits")
SPLITS = ("train", "val", "test")


def clean_text(text: str) -> str:
    """The text as the line model should read it: letters, digits and single spaces. Punctuation is
    dropped (a hyphen or an apostrophe is written, but read as nothing)."""
    kept = "".join(c if c in LINE_ALPHABET else " " if c.isspace() else "" for c in text)
    return re.sub(" +", " ", kept).strip()


@dataclass
class Line:
    """One line to draw: its strokes (page coordinates, y down), the text and where it came from."""

    strokes: list[np.ndarray]
    text: str
    kind: str
    writer: str

    @classmethod
    def from_row(cls, row: dict) -> Line:
        """A line from a JSON row with these fields, its strokes already in page coordinates (y down), as
        tests/fixtures/unipen_lines_sample.jsonl.gz holds them."""
        strokes = [np.asarray(s, np.float64) for s in row["strokes"]]
        return cls(strokes, row["text"], row["kind"], row["writer"])


def _page(strokes: list, y_up: bool) -> list[np.ndarray]:
    flip = np.array([1.0, -1.0 if y_up else 1.0])
    return [np.asarray(s, dtype=np.float64).reshape(-1, 2) * flip for s in strokes if len(s)]


def read_words(path: str | Path = WORDS_PATH, limit: int | None = None) -> list[Line]:
    """The real words, numbers and text lines, with their text cleaned (see clean_text)."""
    path = Path(path)
    if path.is_dir():
        path = path / WORDS_PATH.name
    lines = []
    with gzip.open(path, "rt") as f:
        for row in f:
            sample = json.loads(row)
            text = clean_text(sample["text"])
            strokes = _page(sample["strokes"], sample["y_up"])
            if not text or not strokes or len(text) > MAX_TEXT or sample["quality"] == "BAD":
                continue
            digits = text.replace(" ", "")
            kind = (
                "text"
                if sample["kind"] == "line"
                else "number"
                if len(digits) > 1 and digits.isdigit()
                else "word"
            )
            lines.append(Line(strokes, text, kind, sample["writer"]))
            if limit and len(lines) >= limit:
                break
    return lines


def _box(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    points = np.concatenate(strokes)
    return points.min(0), points.max(0)


def rebuilt_lines(characters: list[dict], longest: int = 24) -> list[Line]:
    """A writer's consecutive characters that lie on one line: each starts to the right of the last,
    overlaps it in height and is not too far from it. Runs longer than ``longest`` are cut."""
    lines, run = [], []

    def close() -> None:
        for start in range(0, len(run), longest):
            part = run[start : start + longest]
            if len(part) >= 2:
                text = "".join(c["label"] for c in part)
                strokes = [s for c in part for s in c["page"]]
                lines.append(Line(strokes, text, "rebuilt", part[0]["writer"]))

    previous = None
    for char in characters:
        char = {**char, "page": _page(char["strokes"], char["y_up"])}
        lo, hi = _box(char["page"])
        char["box"] = lo, hi
        if previous is not None and previous["writer"] == char["writer"]:
            (plo, phi), h = (
                previous["box"],
                max(hi[1] - lo[1], previous["box"][1][1] - previous["box"][0][1], 1),
            )
            overlap = min(hi[1], phi[1]) - max(lo[1], plo[1])
            gap = lo[0] - phi[0]
            if (
                lo[0] > plo[0]
                and overlap > 0.2 * min(hi[1] - lo[1], phi[1] - plo[1])
                and -0.5 * h < gap < 2 * h
            ):
                run.append(char)
                previous = char
                continue
        close()
        run = [char]
        previous = char
    close()
    return lines


def composed_digits(characters: list[dict], rng: np.random.Generator, count: int) -> list[Line]:
    """``count`` random digit strings (2-12 digits), each of one writer's digits at their real sizes,
    set side by side on a baseline with random gaps. No run such as 0123 is taught by its order."""
    by_writer: dict[str, list[dict]] = {}
    for char in characters:
        if char["label"].isdigit():
            by_writer.setdefault(char["writer"], []).append(char)
    writers = [w for w, chars in by_writer.items() if len(chars) >= 5]
    if not writers:
        return []
    lines = []
    for _ in range(count):
        writer = writers[int(rng.integers(len(writers)))]
        chosen = [
            by_writer[writer][int(i)] for i in rng.integers(0, len(by_writer[writer]), rng.integers(2, 13))
        ]
        pages = [_page(c["strokes"], c["y_up"]) for c in chosen]
        height = float(np.median([np.ptp(np.concatenate(p)[:, 1]) for p in pages])) or 1.0
        x, strokes = 0.0, []
        for page in pages:
            lo, hi = _box(page)
            shift = np.array([x - lo[0], -hi[1] + rng.normal(0, 0.05) * height])
            strokes += [s + shift for s in page]
            x += hi[0] - lo[0] + height * rng.uniform(0.05, 0.6)
        lines.append(Line(strokes, "".join(c["label"] for c in chosen), "digits", writer))
    return lines


# -- drawing ------------------------------------------------------------------------------------


def sketch(line: Line, rng: np.random.Generator, heights: tuple[float, float] = (40, 200)) -> np.ndarray:
    """The line drawn with a round brush on a transparent canvas, its ink ``heights`` (a range) tall:
    RGBA, as a sketchpad layer."""
    lo, hi = _box(line.strokes)
    ink_h = rng.uniform(*heights)
    brush = float(np.exp(rng.uniform(np.log(1.5), np.log(max(2.0, 0.16 * ink_h)))))
    scale = ink_h / max(hi[1] - lo[1], 1e-6)
    w, h = (hi - lo) * scale
    if w > 3000:  # no canvas wider than 3000 px
        scale *= 3000 / w
        w, h = (hi - lo) * scale
    canvas = (int(w + 2 * brush + 20), int(h + 2 * brush + 20))
    alpha = unipen.draw_strokes(line.strokes, False, canvas, float(max(w, h)), None, brush)
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., 3] = alpha
    return rgba


def photo(line: Line, rng: np.random.Generator) -> bytes:
    """The line in dark ink on paper, as a phone photo or a scan: JPEG bytes.

    The paper has grain, and may be lit unevenly, ruled, or crossed by a soft shadow's edge. The ink
    is 30-120 px tall: preprocessing brings every picture to one height, and small pages are quick.
    """
    alpha = sketch(line, rng, (30, 120))[..., 3].astype(np.float32) / 255
    h, w = alpha.shape
    margin = int(h * rng.uniform(0.05, 0.6))
    alpha = np.pad(alpha, margin)
    paper, ink = rng.uniform(170, 250), rng.uniform(10, 90)
    if rng.random() < 0.15:
        ink = paper - rng.uniform(35, 70)  # a pencil
    page = np.full(alpha.shape, paper, np.float32)
    ys, xs = np.mgrid[0 : page.shape[0], 0 : page.shape[1]] / max(page.shape)
    setting = rng.choice(["scan", "lamp", "lined", "shadow"], p=[0.4, 0.3, 0.15, 0.15])
    if setting == "lamp":
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xs + np.sin(angle) * ys
        page -= rng.uniform(20, 90) * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-9)
    elif setting == "lined":
        spacing = h * rng.uniform(0.8, 1.4)
        for y in np.arange(margin + h * rng.uniform(0.6, 0.95), page.shape[0], spacing):
            page[int(y) : int(y) + max(1, h // 60)] -= rng.uniform(0.15, 0.5) * (paper - ink)
        page[page < 0] = 0
    elif setting == "shadow":
        angle, y0, x0 = rng.uniform(0, 2 * np.pi), rng.uniform(0, 1), rng.uniform(0, 1)
        shade = ((ys - y0) * np.cos(angle) + (xs - x0) * np.sin(angle) > 0).astype(np.float32)
        blur = ImageFilter.GaussianBlur(max(page.shape) * rng.uniform(0.01, 0.05))
        shade = np.asarray(Image.fromarray(shade * 255).convert("L").filter(blur), np.float32) / 255
        page *= 1 - shade * rng.uniform(0.15, 0.45)
    page = page - alpha * (page - ink)
    page += rng.normal(0, rng.uniform(2, 8), page.shape)
    picture = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=int(rng.uniform(50, 95)))
    return buffer.getvalue()


def line_image(line: Line, seed: int, photo_share: float = 0.25) -> tuple[np.ndarray, str]:
    """The line drawn as a sketch or a photo, through the shared preprocessing: (32, W) uint8 and how."""
    rng = np.random.default_rng(seed)
    if rng.random() < photo_share:
        picture, how = load_image(photo(line, rng)), "photo"
    else:
        picture, how = sketch(line, rng), "sketch"
    return to_line_input(picture).image, how


# -- data sets ----------------------------------------------------------------------------------


@dataclass
class LineSet:
    """Line images (each (32, W) uint8), their texts, kinds, writers and how each was drawn."""

    images: list[np.ndarray]
    texts: list[str]
    kinds: np.ndarray
    writers: np.ndarray
    drawn: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)


def split_writers(lines: list[Line], characters: list[dict]) -> dict[str, str]:
    """Each writer's split. A writer of the character file keeps the split the single-character models
    gave them (so no test writer of theirs is trained on here); the other writers are split alike."""
    from training.datasets import fixture_writers

    held = fixture_writers("unipen")
    char_writers = np.array([c["writer"] for c in characters])
    which = {}
    for part, index in zip(SPLITS, writer_split(char_writers, WRITER_FRACTIONS, SPLIT_SEED, held)):
        which.update(dict.fromkeys(char_writers[index].tolist(), part))
    others = np.array(sorted({line.writer for line in lines} - set(which)))
    for part, index in zip(SPLITS, writer_split(others, WRITER_FRACTIONS, SPLIT_SEED)):
        which.update(dict.fromkeys(others[index].tolist(), part))
    return which


def all_lines(
    words_path: str | Path = WORDS_PATH,
    chars_path: str | Path = unipen.DEFAULT_PATH,
    limit: int | None = None,
) -> tuple[list[Line], dict[str, str]]:
    """Every line of every kind (digit strings composed within a split, so no writer crosses), and
    the split of each writer."""
    characters = unipen.read(chars_path, limit)
    lines = read_words(words_path, limit) + rebuilt_lines(characters)
    which = split_writers(lines, characters)
    rng = np.random.default_rng(SPLIT_SEED)
    for part, count in zip(SPLITS, (15000, 2000, 2000)):
        mine = [c for c in characters if which.get(c["writer"]) == part]
        lines += composed_digits(mine, rng, count if not limit else min(count, limit))
    return lines, which


def _draw_chunk(args: tuple[list[Line], list[int], float]) -> list[tuple[np.ndarray, str]]:
    lines, seeds, photo_share = args
    out = []
    for line, seed in zip(lines, seeds):
        try:
            out.append(line_image(line, seed, photo_share))
        except NoInkError:
            out.append((np.zeros((32, 8), np.uint8), "none"))
    return out


def load_lines(
    split: str,
    words_path: str | Path = WORDS_PATH,
    chars_path: str | Path = unipen.DEFAULT_PATH,
    seed: int = 0,
    photo_share: float = 0.25,
    limit: int | None = None,
) -> LineSet:
    """The ``split`` ("train", "val" or "test") of every kind, drawn and preprocessed, cached on disk."""
    key = f"lines-{split}-s{seed}-p{photo_share:g}-{_version()}" + (f"-n{limit}" if limit else "")
    if (Path(words_path), Path(chars_path)) != (WORDS_PATH, unipen.DEFAULT_PATH):
        key += "-" + "-".join(f"{Path(p).name}{Path(p).stat().st_size}" for p in (words_path, chars_path))
    path = CACHE_DIR / f"{key}.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        images = np.split(data["pixels"], np.cumsum(data["widths"])[:-1], axis=1)
        return LineSet(images, data["texts"].tolist(), data["kinds"], data["writers"], data["drawn"])
    lines, which = all_lines(words_path, chars_path, limit)
    lines = [line for line in lines if which.get(line.writer) == split]
    seeds = np.random.default_rng(seed).integers(0, 2**32, len(lines)).tolist()
    chunks = [(lines[i : i + 500], seeds[i : i + 500], photo_share) for i in range(0, len(lines), 500)]
    with Pool(min(os.cpu_count() or 1, 8)) as pool:
        drawn = [item for chunk in pool.map(_draw_chunk, chunks) for item in chunk]
    images = [image for image, _ in drawn]
    result = LineSet(
        images,
        [line.text for line in lines],
        np.array([line.kind for line in lines]),
        np.array([line.writer for line in lines]),
        np.array([how for _, how in drawn]),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path.with_suffix(".tmp.npz"),
        pixels=np.concatenate(images, axis=1),
        widths=np.array([im.shape[1] for im in images]),
        texts=np.array(result.texts),
        kinds=result.kinds,
        writers=result.writers,
        drawn=result.drawn,
    )
    path.with_suffix(".tmp.npz").replace(path)
    return result


VERSION = 2
"""Raise it when the drawing above changes, so that a stale cache is never reused."""


def _version() -> str:
    """VERSION and a fingerprint of what the line steps (``text_line.line_from_ink``) output on fixed
    probe ink: a cache survives an edit that changes nothing (a comment, a speed-up) and no edit of
    the line steps that changes an output. Finding the ink (``ink.ink_map``) is the single-character
    models' step, fingerprinted by their own caches: raise VERSION when a change to it matters here."""
    import hashlib

    from training.data.base import _probe_images

    digest = hashlib.sha256()
    for image in _probe_images():
        if image.ndim == 2:
            digest.update(line_from_ink(image.astype(np.float32) / 255).image.tobytes())
    return f"v{VERSION}-{digest.hexdigest()[:8]}"

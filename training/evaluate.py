"""Score a committed model the way users use it, on writers it never saw in training.

    python -m training.evaluate digits --data-dir ../shared/data
    python -m training.evaluate characters --data-dir ../shared/data --limit 3000
    python -m training.evaluate lines [--limit N] [--write]     # the line model: training/evaluate_lines.py

Kinds of input, all through the public ``Recognizer.predict``:
- sketch: held-out writers' UniPen pen trajectories drawn on an 800x800 sketchpad
  value (RGBA layer + composite, as Gradio sends it) with random brush widths,
  sizes and positions;
- scan: held-out writers' NIST (FEMNIST) characters printed dark on light, scaled
  to a random size between 40 and 1200 px, with paper noise, saved as JPEG;
- photo: the same characters again, on paper lit unevenly (darker towards one side);
- desk: and again, photographed on a sheet lying on a darker desk that shows around it;
- dust: and again, scanned small on a page 2-4 times their size with specks of dust on it;
- lined: and again, photographed on ruled or squared paper, the lines lighter than the pen and
  tilted by up to 3 degrees;
- faint: and again, in faint ink (a pencil, say) only 25-60 grey levels darker than the paper,
  photographed with a grain of 3-8 grey levels;
- shadow: and again, photographed on a page 1.5-3 times their size with the edge of a shadow (a
  phone's or a hand's) across it;
- form: and again, written in a box or on a line printed on a form, as dark as the pen or nearly;
- clutter: and again, on a sheet on a grained desk, with a pen or a coin beside it a third of the time
  each, the sheet cut at a corner by the photo's edge a third of the time, and in faint ink half the
  time;
- pencil_shadow: and again, in faint ink as in faint, with the edge of a shadow across the page as in
  shadow;
- mnist: the official MNIST test set (digits only), as 28x28 arrays;
- with --brush-grid N: N of the sketches again, at each pair of character
  height and brush width in a fixed grid, centred on the canvas;
- with --sketch-draws N: all the sketches again, in N more random draws, to tell
  the luck of one draw's brushes from what the model cannot read at all;
- with --style-matrix N: N plain pictures in every cell of the style matrix (either
  polarity or transparent, cropped or not, 16 to 2,000 px, PNG or JPEG, thin or fat
  strokes; ``training/style_matrix.py``), each cell against the plain 28x28 picture.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time

import numpy as np
from PIL import Image, ImageFilter

from recognizer import NoInkError, Recognizer
from recognizer.labels import fold_case
from training.data import unipen
from training.data.base import writer_split
from training.data.unipen import draw_strokes, sketchpad_value
from training.datasets import WRITER_FRACTIONS, _sub, fixture_writers


def sketches(samples: list[dict], rng: np.random.Generator):
    """Each trajectory drawn on an 800x800 canvas with a random brush, size and position."""
    for s in samples:
        height = rng.uniform(150, 650)
        brush = rng.uniform(5, 40)
        centre = tuple(rng.uniform(height / 2 + brush, 800 - height / 2 - brush, 2))
        yield (
            sketchpad_value(draw_strokes(s["strokes"], s["y_up"], (800, 800), height, centre, brush)),
            s["label"],
        )


GRID_HEIGHTS = (60, 120, 300, 700)
GRID_BRUSHES = (2, 5, 15, 30, 50)


def brush_grid(
    rec: Recognizer,
    samples: list[dict],
    heights: tuple[int, ...] = GRID_HEIGHTS,
    brushes: tuple[int, ...] = GRID_BRUSHES,
) -> dict:
    """Sketch accuracy for each (character height, brush width) pair, both in canvas pixels.

    It shows where a character drawn small with a fat brush becomes a blob: the
    brush fills its loops, and no preprocessing can open them again. Pairs whose
    brush is wider than half the height are left out (None).
    """
    rows = []
    for height in heights:
        row = []
        for brush in brushes:
            if brush > height / 2:
                row.append(None)
                continue
            drawings = (
                (sketchpad_value(draw_strokes(s["strokes"], s["y_up"], (800, 800), height, None, brush)),
                 s["label"])
                for s in samples
            )
            row.append(score(rec, drawings)["accuracy"])
        rows.append(row)
    return {"n": len(samples), "heights": list(heights), "brushes": list(brushes), "accuracy": rows}


SCAN_KINDS = {
    "scan": "scan", "photo": "lamp", "desk": "desk", "dust": "dust", "lined": "lined", "faint": "faint",
    "shadow": "shadow", "form": "form", "clutter": "clutter", "pencil_shadow": "pencil_shadow",
}
"""Each scan and photo column of the results, and the ``scans`` setting that makes it."""


SMALL_ON_A_PAGE = ("dust", "lined", "shadow", "form", "pencil_shadow")
"""The settings that put the character (40-400 px) on a page larger than itself."""


def scans(x: np.ndarray, labels: list[str], rng: np.random.Generator, setting: str = "scan"):
    """White-on-black 28x28 characters as dark-on-light JPEG scans of random size, with paper noise.

    ``setting`` "lamp": photos rather than scans, the paper darkening by 40-120 grey levels
    from one side to the other, in a random direction. "desk": photos of the sheet (1.2-2
    times the character's size) lying on a darker desk (grey 20-150) that shows around it.
    "dust": the character (40-400 px) anywhere on a scan 2-4 times its size, with dust on it.
    "lined": the character (40-400 px) photographed on ruled or squared paper (see ``_on_lined_paper``).
    "faint": faint ink (a pencil), 25-60 grey levels darker than the paper, with a grain (noise) of 3-8
    grey levels where the others have 6 and ink at least 130 levels darker.
    "shadow": the character (40-400 px) photographed with a shadow's edge across the page (``_in_shadow``).
    "form": the character (40-400 px) in a box or on a line printed on a form (``_on_a_form``).
    "clutter": as "desk", but the desk has a wood-like grain and may have a pen or a coin on it, the
    photo may cut the sheet at a corner, and half the time the ink is as faint as "faint"'s
    (``_on_a_cluttered_desk``).
    "pencil_shadow": as "shadow", in ink as faint as "faint"'s.
    """
    for image, label in zip(x, labels):
        side = int(rng.uniform(40, 400 if setting in SMALL_ON_A_PAGE else 1200))
        big = np.asarray(
            Image.fromarray(255 - image).resize((side, side), Image.Resampling.BICUBIC), np.float32
        )
        paper = rng.uniform(200, 250)
        ink = rng.uniform(10, 70)
        grain = 6.0
        if setting in ("faint", "pencil_shadow") or (setting == "clutter" and rng.random() < 0.5):
            ink, grain = paper - rng.uniform(25, 60), rng.uniform(3, 8)
        if setting == "lamp":
            angle, drop = rng.uniform(0, 2 * np.pi), rng.uniform(40, 120)
            paper = lamp_lit((side, side), paper, drop, angle)
        page = on_paper(paper - (255 - big) / 255 * (paper - ink), setting, paper, ink, rng)
        page = page + rng.normal(0, grain, page.shape)
        yield as_jpeg(page, int(rng.uniform(60, 95))), label


def on_paper(
    page: np.ndarray, setting: str, paper: float, ink: float, rng: np.random.Generator
) -> np.ndarray:
    """``page`` (grey levels) where ``setting`` puts it: on a sheet on a desk ("desk"), on a dusty scan
    ("dust"), on ruled paper ("lined") or on a page with a shadow across it ("shadow", "pencil_shadow");
    "clutter" on a sheet on a grained desk with things on it; "form" in a printed box or on a printed
    line. Any other setting leaves it as it is."""
    if setting in ("desk", "clutter"):
        return _on_a_desk(page, paper, rng, cluttered=setting == "clutter")
    if setting == "dust":
        return _with_dust(page, paper, rng)
    if setting == "lined":
        return _on_lined_paper(page, paper, ink, rng)
    if setting in ("shadow", "pencil_shadow"):
        return _in_shadow(page, paper, rng)
    if setting == "form":
        return _on_a_form(page, paper, ink, rng)
    return page


def as_jpeg(page: np.ndarray, quality: int) -> bytes:
    """Grey levels, clipped to 0-255, as the bytes of a JPEG file."""
    buf = io.BytesIO()
    Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def lamp_lit(shape: tuple[int, int], paper: float, drop: float, angle: float) -> np.ndarray:
    """Paper brightness (0-255) that falls by ``drop`` from one side to the other, in direction ``angle``."""
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] / max(shape)
    ramp = np.cos(angle) * xs + np.sin(angle) * ys
    return paper - drop * (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-9)


def _on_a_desk(
    page: np.ndarray, paper: float, rng: np.random.Generator, cluttered: bool = False
) -> np.ndarray:
    """``page`` in the middle of a sheet 1.2-2 times its size, the sheet on a plain grey desk with
    10-50% margins; or with ``cluttered``, on a grained desk with things on it (``_on_a_cluttered_desk``)."""
    side = page.shape[0]
    sheet = np.full((int(side * rng.uniform(1.2, 2)), int(side * rng.uniform(1.2, 2))), paper, np.float32)
    top, left = (sheet.shape[0] - side) // 2, (sheet.shape[1] - side) // 2
    sheet[top : top + side, left : left + side] = page
    dy, dx = (int(n * rng.uniform(0.1, 0.5)) for n in sheet.shape)
    if cluttered:
        return _on_a_cluttered_desk(sheet, (dy, dx), rng)
    photo = np.full((sheet.shape[0] + 2 * dy, sheet.shape[1] + 2 * dx), rng.uniform(20, 150), np.float32)
    photo[dy : dy + sheet.shape[0], dx : dx + sheet.shape[1]] = sheet
    return photo


def _on_a_cluttered_desk(sheet: np.ndarray, margins: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """``sheet`` on a desk (grey 60-150) with a wood-like grain of 10-40 grey levels, whose stripes are
    1.3-7% of the photo apart, in any direction, with ``margins`` (down, across) of desk around it. A
    third of the time the photo cuts the sheet at a corner, and the desk shows along two sides only.
    A third of the time a dark pen (grey 10-30, 2% of the photo thick) lies along the sheet, and a
    third of the time a coin (grey 30-120, 50-90% of the margin across) lies somewhere beside it. These
    are what a character, faint pencil above all, must not be mistaken for: the grain and the pen
    spread across the photo, the coin is as compact as a character."""
    (dy, dx), (sh, sw) = margins, sheet.shape
    margin = [dy, dy, dx, dx]  # top, bottom, left, right
    if rng.random() < 1 / 3:
        margin[int(rng.integers(2))] = 0
        margin[2 + int(rng.integers(2))] = 0
    top, bottom, left, right = margin
    h, w = sh + top + bottom, sw + left + right
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    theta, period = rng.uniform(0, np.pi), rng.uniform(8, 40) * max(h, w) / 600
    wave = 2 * np.pi * (ys * np.cos(theta) + xs * np.sin(theta)) / period + rng.uniform(0, 2 * np.pi)
    photo = rng.uniform(60, 150) + rng.uniform(10, 40) * np.sin(wave + 0.8 * np.sin(xs / (3 * period)))
    thing, where = int(rng.integers(3)), int(rng.choice([i for i in range(4) if margin[i] > 0]))
    along = where < 2  # a margin above or below the sheet, which runs across the photo
    middle = [top / 2, h - bottom / 2, left / 2, w - right / 2][where]  # of that margin
    if thing == 1:  # a pen, as long as the sheet
        half = max(2, int(0.02 * max(h, w))) // 2
        band = slice(max(0, int(middle) - half), int(middle) + half + 1)
        photo[(band, slice(left, left + sw)) if along else (slice(top, top + sh), band)] = rng.uniform(10, 30)
    elif thing == 2:  # a coin, anywhere along the margin
        radius = max(1.0, margin[where] * rng.uniform(0.5, 0.9) / 2)
        anywhere = rng.uniform(radius, (w if along else h) - radius)
        y, x = (middle, anywhere) if along else (anywhere, middle)
        photo[(ys - y) ** 2 + (xs - x) ** 2 < radius**2] = rng.uniform(30, 120)
    photo = np.clip(photo, 0, 255).astype(np.float32)
    photo[top : top + sh, left : left + sw] = sheet
    return photo


def _anywhere_on(
    page: np.ndarray, paper: float, times: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """``page`` (square) anywhere on a sheet of ``paper`` whose height and width are each ``times``
    (a range) its side."""
    side = page.shape[0]
    h, w = (int(side * rng.uniform(*times)) for _ in range(2))
    sheet = np.full((h, w), paper, np.float32)
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    sheet[top : top + side, left : left + side] = page
    return sheet


def _with_dust(page: np.ndarray, paper: float, rng: np.random.Generator) -> np.ndarray:
    """``page`` anywhere on a scan 2-4 times its size, with 3-15 specks of dust (grey 20-150, up to
    4% of the character's size across) anywhere on the scan."""
    side = page.shape[0]
    scan = _anywhere_on(page, paper, (2, 4), rng)
    h, w = scan.shape
    ys, xs = np.ogrid[:h, :w]
    for _ in range(int(rng.integers(3, 16))):
        radius, y, x = rng.uniform(1, max(1.5, 0.02 * side)), rng.uniform(0, h), rng.uniform(0, w)
        scan[(ys - y) ** 2 + (xs - x) ** 2 < radius**2] = rng.uniform(20, 150)
    return scan


def _on_lined_paper(page: np.ndarray, paper: float, ink: float, rng: np.random.Generator) -> np.ndarray:
    """``page`` written on ruled paper (or squared, half the time), photographed 1.3-2.5 times its size
    and turned by up to 3 degrees either way: lines 0.5-0.9 of the character's size apart, 0.5-1.5%
    of it thick, printed 20-60% as dark as the pen, running on past the photo's edges."""
    side = page.shape[0]
    h, w = (int(side * rng.uniform(1.3, 2.5)) for _ in range(2))
    margin = (h + w) // 10  # paper beyond the photo, so that turning it leaves no bare corners
    sheet = np.full((h + 2 * margin, w + 2 * margin), paper, np.float32)
    line, spacing = paper - rng.uniform(0.2, 0.6) * (paper - ink), side * rng.uniform(0.5, 0.9)
    thick = max(1, int(round(side * rng.uniform(0.005, 0.015))))
    for y in np.arange(rng.uniform(0, spacing), sheet.shape[0], spacing):
        sheet[int(y) : int(y) + thick] = line
    if rng.random() < 0.5:
        for x in np.arange(rng.uniform(0, spacing), sheet.shape[1], spacing):
            sheet[:, int(x) : int(x) + thick] = line
    top, left = margin + int(rng.integers(0, h - side + 1)), margin + int(rng.integers(0, w - side + 1))
    return _written_and_turned(sheet, page, (top, left), margin, rng)


def _written_and_turned(
    sheet: np.ndarray, page: np.ndarray, at: tuple[int, int], margin: int, rng: np.random.Generator
) -> np.ndarray:
    """``page`` written over the printed ``sheet`` at ``at`` (the pen darkens, never lightens), the sheet
    turned by up to 3 degrees either way, and ``margin`` cropped off every side."""
    (top, left), side = at, page.shape[0]
    under = sheet[top : top + side, left : left + side]
    sheet[top : top + side, left : left + side] = np.minimum(under, page)
    turned = Image.fromarray(sheet, mode="F").rotate(rng.uniform(-3, 3), Image.Resampling.BILINEAR)
    return np.asarray(turned, np.float32)[margin:-margin, margin:-margin]


def _on_a_form(page: np.ndarray, paper: float, ink: float, rng: np.random.Generator) -> np.ndarray:
    """``page`` written on a printed form, photographed: half the time in a box whose inside is 1.1-1.6
    times the character's size, otherwise on a line 1.3-3 times its size long, drawn at 75-100% of
    the character's height (so the foot of a 2, say, may touch or cross it). The print is 70-100% as
    dark as the pen and 0.5-2% of the character's size thick; the photo shows a margin of 5-60% of the
    character's size around it and may be turned by up to 3 degrees."""
    side = page.shape[0]
    thick = max(1, int(round(side * rng.uniform(0.005, 0.02))))
    grey = paper - rng.uniform(0.7, 1.0) * (paper - ink)
    boxed = rng.random() < 0.5
    if boxed:
        ih, iw = (int(side * rng.uniform(1.1, 1.6)) for _ in range(2))
    else:
        ih, iw = side, int(side * rng.uniform(1.3, 3))
    m = int(side * rng.uniform(0.05, 0.6)) + thick  # the photo's margin around the box or line
    margin = (ih + iw) // 10 + 1  # paper beyond the photo, so that turning it leaves no bare corners
    sheet = np.full((ih + 2 * (m + margin), iw + 2 * (m + margin)), paper, np.float32)
    top, left = m + margin, m + margin  # the inside of the box, or the line's extent
    if boxed:
        sheet[top - thick : top + ih + thick, left - thick : left + iw + thick] = grey
        sheet[top : top + ih, left : left + iw] = paper
        at = top + int(rng.integers(0, ih - side + 1)), left + int(rng.integers(0, iw - side + 1))
    else:
        y = top + int(side * rng.uniform(0.75, 1.0))
        sheet[y : y + thick, left : left + iw] = grey
        at = top, left + int(rng.integers(0, iw - side + 1))
    return _written_and_turned(sheet, page, at, margin, rng)


def _in_shadow(page: np.ndarray, paper: float, rng: np.random.Generator) -> np.ndarray:
    """``page`` anywhere on a page 1.5-3 times its size, photographed with the edge of a shadow across
    it in a random direction and place (it may cross the character): the shadowed side 40-80% as
    bright, its edge sharp half the time and otherwise blurred over 1-4% of the photo's size."""
    photo = _anywhere_on(page, paper, (1.5, 3), rng)
    h, w = photo.shape
    ys, xs = np.mgrid[0:h, 0:w]
    angle, y0, x0 = rng.uniform(0, 2 * np.pi), rng.uniform(0, h), rng.uniform(0, w)
    shade = ((ys - y0) * np.cos(angle) + (xs - x0) * np.sin(angle) > 0).astype(np.float32)
    if rng.random() < 0.5:
        blur = ImageFilter.GaussianBlur(max(h, w) * rng.uniform(0.01, 0.04))
        shade = np.asarray(Image.fromarray(shade * 255).convert("L").filter(blur), np.float32) / 255
    return photo * (1 - shade * rng.uniform(0.2, 0.6))


def score(rec: Recognizer, inputs, groups: list[tuple[str, ...]] | None = None) -> dict:
    """Exact and case-insensitive accuracy of ``rec`` over (input, label) pairs.

    With ``groups`` (for each input, the names of the groups it is in, such as
    UniPen's sample quality and the audit's verdict), the same figures for each
    group as well, under ``by_group``.
    """
    hits = _hits(rec, inputs)
    result = _accuracy(hits)
    if groups is not None:
        result["by_group"] = {
            g: _accuracy([h for h, these in zip(hits, groups) if g in these])
            for g in sorted({g for these in groups for g in these})
        }
    return result


def _hits(rec: Recognizer, inputs) -> list[tuple[bool, bool]]:
    """For each (input, label): whether ``rec`` read it exactly, and whether up to case."""
    hits = []
    for value, label in inputs:
        try:
            got = rec.predict(value).label
        except NoInkError:  # what the app would call a blank image: a miss
            got = ""
        hits.append((got == label, fold_case(got) == fold_case(label)))
    return hits


def sketch_draws(rec: Recognizer, samples: list[dict], draws: int, first_seed: int = 1000) -> dict:
    """Exact sketch accuracy over ``draws`` independent draws of brush, size and position.

    One draw's figure carries the luck of its brushes; the mean over several does
    not, and the counts say how much of the error is the drawings themselves:
    a sample never read right in any draw is not a matter of brush or size.
    ``by_writer`` gives each writer's share over all draws: whether another group of
    writers would reach a bar depends on who they are (``training/writer_spread.py``).
    Draw k uses ``np.random.default_rng(first_seed + k)``.
    """
    right = np.array(
        [
            [exact for exact, _ in _hits(rec, sketches(samples, np.random.default_rng(first_seed + k)))]
            for k in range(draws)
        ]
    )
    per_draw = right.mean(axis=1)
    writers = np.array([s["writer"] for s in samples])
    masks = {writer: writers == writer for writer in np.unique(writers)}  # each writer's samples
    times = right.sum(axis=0)
    return {
        "n": len(samples),
        "draws": draws,
        "seeds": [first_seed, first_seed + draws - 1],
        "accuracy_per_draw": [round(float(a), 4) for a in per_draw],
        "mean": round(float(per_draw.mean()), 4),
        "sd": round(float(per_draw.std()), 4),
        "always_right": int((times == draws).sum()),
        "never_right": int((times == 0).sum()),
        "by_writer": {
            str(writer): {"n": int(mine.sum()), "accuracy": round(float(right[:, mine].mean()), 4)}
            for writer, mine in masks.items()
        },
    }


def _accuracy(hits: list[tuple[bool, bool]]) -> dict:
    n = len(hits)
    exact, folded = (sum(h[i] for h in hits) for i in (0, 1))
    return {"n": n, "accuracy": round(exact / max(n, 1), 4), "case_insensitive": round(folded / max(n, 1), 4)}


def held_out(writers: np.ndarray, source: str, seed: int, split: str = "test") -> np.ndarray:
    """Indices of the test (or validation) writers, exactly as training split them."""
    return writer_split(writers, WRITER_FRACTIONS, seed, fixture_writers(source))[2 if split == "test" else 1]


def held_out_femnist(
    data_dir: str, labels: list[str], seed: int, split: str = "test"
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """FEMNIST's images and their characters, and the indices of the ``split`` writers' characters
    that are among ``labels`` (the writers split as training split them with ``seed``)."""
    from recognizer.labels import BYCLASS

    with np.load(f"{_sub(data_dir, 'femnist')}/femnist_byclass_dev.npz") as data:
        x, y, writers = data["x"], data["y"], data["writer"].astype(str)
    chars = np.asarray(BYCLASS)[y]
    return x, chars, [i for i in held_out(writers, "femnist", seed, split) if chars[i] in labels]


def sketch_groups(sample: dict, audited: tuple[dict, set], split: str, seed: int) -> tuple[str, ...]:
    """The groups a sketch is scored in: its UniPen quality ("?" marks doubtful samples) and, where
    ``training/data/unipen_audit.json`` looked, whether it can be read as its label at all."""
    scope, broken = audited
    groups = (f"quality {sample['quality']}",)
    if (split, seed) == (scope["split"], scope["seed"]) and sample["label"] in scope["labels"]:
        groups += ("audit: broken" if unipen.sample_key(sample) in broken else "audit: readable",)
    return groups


def main(argv=None) -> dict:
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["lines"]:  # the line model (issue 26) has its own sets and scores
        from training import evaluate_lines

        return evaluate_lines.main(given[1:])
    p = argparse.ArgumentParser(prog="python -m training.evaluate")
    p.add_argument("model")
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--limit", type=int, default=2000, help="samples per kind")
    p.add_argument("--seed", type=int, default=42, help="the training seed (it fixed the writer split)")
    p.add_argument("--split", choices=["test", "val"], default="test",
                   help="the held-out test writers, or the validation writers (seen in training only as "
                   "a yardstick; runs were also chosen on them)")
    p.add_argument("--brush-grid", type=int, default=0, metavar="N",
                   help="also score N sketches at each pair of character height and brush width")
    p.add_argument("--sketch-draws", type=int, default=0, metavar="N",
                   help="also score the same sketches in N more independent draws of brush, size and "
                   "position (exact accuracy: mean, spread, and how many are never or always read right)")
    p.add_argument("--style-matrix", type=int, default=0, metavar="N",
                   help="also score N characters in every cell of the style matrix of plain pictures "
                   "(training/style_matrix.py)")
    p.add_argument("--write", action="store_true", help="record the result in models/<model>.json")
    args = p.parse_args(argv)
    rec = Recognizer.load(args.model)
    rng = np.random.default_rng(0)
    results = {}

    audited = unipen.audit()
    samples = unipen.read(_sub(args.data_dir, "unipen"))  # split all of it, as training did, then filter
    test = held_out(np.array([s["writer"] for s in samples]), "unipen", args.seed, args.split)
    test = [i for i in test if samples[i]["label"] in rec.labels]
    sketched = [samples[i] for i in rng.permutation(test)[: args.limit]]
    t0 = time.time()
    groups = [sketch_groups(s, audited, args.split, args.seed) for s in sketched]
    results["sketch"] = score(rec, sketches(sketched, rng), groups)
    if args.sketch_draws:
        results["sketch_draws"] = sketch_draws(rec, sketched, args.sketch_draws)
    if args.brush_grid:
        results["brush_grid"] = brush_grid(rec, sketched[: args.brush_grid])

    x, chars, test = held_out_femnist(args.data_dir, rec.labels, args.seed, args.split)
    chosen = rng.permutation(test)[: args.limit]
    images, labels = x[chosen], list(chars[chosen])
    for kind, setting in SCAN_KINDS.items():  # in this order: each draws from the same rng
        results[kind] = score(rec, scans(images, labels, rng, setting))

    if rec.name == "digits" and args.split == "test":
        from training.data import mnist

        raw = mnist.load_raw(_sub(args.data_dir, "mnist"))["test"]
        results["mnist"] = score(rec, zip(raw[0], (str(v) for v in raw[1])))
    if args.style_matrix:
        from training import style_matrix

        plain = style_matrix.held_out_glyphs(rec.name, rec.labels, args.data_dir, args.style_matrix)
        results["style_matrix"] = style_matrix.evaluate(rec, *plain)
    results["seconds"] = round(time.time() - t0, 1)
    print(json.dumps({"model": args.model, "sha256": rec.sha256[:12], **results}, indent=2))
    if args.write:
        meta_path = rec.model_path.with_suffix(".json")
        meta = json.loads(meta_path.read_text())
        command = "python -m training.evaluate " + " ".join(sys.argv[1:] if argv is None else argv)
        key = "held_out_evaluation" if args.split == "test" else "validation_writers_evaluation"
        meta[key] = {"command": command, **results}
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()

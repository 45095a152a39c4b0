"""The one preprocessing function that training and serving share.

Every image the models ever see, MNIST and FEMNIST digits in training as much as
a fat-brush sketch or a phone photo when serving, goes through
:func:`to_model_input`. It turns a numpy image into the 28x28 picture that
MNIST taught the models to expect: white ink on black, cropped to the ink,
strokes about 2-3 px wide, fitted into 20x20 and centred on its centre of mass.

Everything here is a pure function of numpy arrays: no I/O, no state, and the
same output for the same input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image

from recognizer.errors import InvalidImageError, NoInkError

MODEL_SIZE = 28
"""Side of the square the models read."""

FIT_BOX = 20
"""The drawing is scaled so that its longer side fills this many pixels, as in MNIST."""

WORK_SIZE = 80
"""Long side, in pixels, of the working copy on which strokes are measured and reshaped (4x FIT_BOX)."""

TARGET_STROKE = 10.0
"""Stroke width, in WORK_SIZE pixels, that strokes are brought to: 2.5 px at 28x28.

It is the median of :func:`stroke_width` over the MNIST training set (5th-95th
percentiles: 6.5-16), so that normalised drawings have MNIST's strokes.
``tests/test_preprocess.py`` re-measures it on the shipped MNIST sample.
"""

STROKE_TOLERANCE = 2.5
"""Strokes within this many WORK_SIZE pixels of the target keep their width, as most of MNIST does."""

MIN_CONTRAST = 0.12
"""Below this difference between ink and background (on a 0-1 scale) the image counts as blank."""

INK_THRESHOLD = 0.35
"""Fraction of the strongest ink above which a pixel counts as ink for cropping."""

PAPER_FLOOR = 0.15
"""Ink fainter than this fraction of the strongest ink is paper texture or JPEG noise, and is dropped."""

UNEVEN_LIGHT = 0.04
"""Paper whose brightness changes by more than this (0-1 scale) across the image is lit unevenly,
as in a phone photo: the ink is then measured against the fitted paper, not one level."""

THICK_STROKES = 0.25
"""Strokes wider than this share of the character's longer side close up its loops. Drawn 60 px tall
with a 30 px brush (a share of about 0.35), test writers' digits read 56% (``brush_grid`` of
``python -m training.evaluate digits --brush-grid 300``), against 95-96% at a share under 0.2."""

_BORDER_SAMPLES = 4000
_CURVE_RIDGE = np.array([0, 0, 0, 1e-3, 1e-3, 1e-3])

SHEET_CONTRAST, PAPER_AREA, PAPER_FILL = 0.2, 0.15, 0.85
"""A photo shows a sheet on a darker desk when a region this much brighter than the paper level read
from the border (0-1 scale) covers at least this share of the image, and this share of its own
bounding box and of each of the box's edges."""

LINE_SPAN, LINE_INK, LINE_TILT = 0.95, 0.7, 6.0
"""A thin line with ink along at least LINE_SPAN of it, on the whole at most LINE_INK as dark as the
darkest ink, is a printed line of ruled or squared paper: the pen's strokes are darker, and where a
character's stroke runs the whole width of a tightly cropped picture, it is thicker than a printed
line (see printed_lines). Photos tilt the lines by up to LINE_TILT degrees."""

_TILT_STEP, _TILT_WIDTH = 0.25, 256

SPECK_MASS, SPECK_GAP = 0.2, 0.25
"""Ink with less than SPECK_MASS of all the ink, further from the character than SPECK_GAP of the
character's size, is a speck (dust on a scan, a stray dot on a canvas): it is left out of the crop."""

DOT_GAP, DOT_SLANT = 1.5, 0.5
"""Above the character, a speck may be the dot of an i or j: it is kept up to DOT_GAP of the
character's size above it, and aside by up to DOT_SLANT of its height above, as the dot of a
slanted i is. (This also keeps specks that happen to lie there.)"""

STROKE_LENGTH = 0.25
"""For a model with no i or j, ink above the character is kept that far only if it is a stroke at least
STROKE_LENGTH of the character's size long, as the flag of a 5 written apart is; a dot there is a speck."""

_PAD = 16


def as_float_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float32 in [0, 1], keeping its shape.

    uint8 is divided by 255 and uint16 by 65535. Floats already in [0, 1] stay
    as they are; floats above 1 are taken to be on a 0-255 scale.
    """
    a = np.asarray(image)
    if a.size == 0:
        raise InvalidImageError("The image is empty (it has no pixels).")
    if a.dtype == bool:
        return a.astype(np.float32)
    if a.dtype in (np.uint8, np.uint16):
        f = a.astype(np.float32)
        f /= 255.0 if a.dtype == np.uint8 else 65535.0  # in place: a second full-size array doubles the time
        return f
    if np.issubdtype(a.dtype, np.integer):
        return np.clip(a, 0, 255).astype(np.float32) / 255.0
    if np.issubdtype(a.dtype, np.floating):
        f = a.astype(np.float32)
        if not np.isfinite(f).all():
            raise InvalidImageError("The image contains NaN or infinite values.")
        if f.max() > 1.0:
            f = f / 255.0
        return np.clip(f, 0.0, 1.0)
    raise InvalidImageError(f"Unsupported pixel type {a.dtype}; use uint8, uint16 or float.")


def _check_shape(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4)):
        if min(a.shape[:2]) < 1:
            raise InvalidImageError("The image is empty (it has no pixels).")
        return a
    raise InvalidImageError(
        f"Expected a greyscale, RGB or RGBA image, got an array of shape {tuple(a.shape)}."
    )


def ink_map(image: np.ndarray) -> np.ndarray:
    """Return where the ink is: float32 (H, W), 1 for full ink and 0 for background.

    - An image with real transparency (a sketchpad layer, a transparent PNG) is
      read by its alpha channel: whatever is painted is ink, whatever colour.
    - Otherwise the background is the median of the border pixels, and ink is
      whatever departs from it the most, darker or lighter. So dark-on-light
      scans and white-on-black MNIST both work.

    Raises ``NoInkError`` when nothing stands out from the background.
    """
    a = _check_shape(np.asarray(image))
    channels = 1 if a.ndim == 2 else a.shape[2]
    if channels in (2, 4):
        alpha = as_float_image(a[:, :, -1])
        if alpha.min() < 0.98:
            return _normalise_contrast(alpha)
        a = a[:, :, :-1]
        channels -= 1
    grey = as_float_image(a)
    if channels == 3:
        grey = grey @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    elif grey.ndim == 3:
        grey = grey[:, :, 0]
    departure = grey - paper_level(grey)
    sheet = paper_region(departure)
    if sheet is not None:
        try:  # the ink on the sheet alone; a sheet with nothing on it falls back to the whole photo
            on_sheet = np.ascontiguousarray(grey[sheet])
            ink = np.zeros_like(grey)
            ink[sheet] = _ink_from(on_sheet - paper_level(on_sheet))
            return ink
        except NoInkError:
            pass
    return _ink_from(departure)


def _ink_from(departure: np.ndarray) -> np.ndarray:
    """Ink from the departure from the paper: darker or lighter, whichever is larger; normalised.

    Works in place on ``departure``.
    """
    ink = departure
    if -float(ink.min()) >= float(ink.max()):  # the ink departs most in the darker direction
        np.negative(ink, out=ink)
    return without_printed_lines(_normalise_contrast(ink))


def without_printed_lines(ink: np.ndarray) -> np.ndarray:
    """``ink`` with the lines of ruled or squared paper taken out (see LINE_SPAN), in place.

    The lines are found on a small copy, at any tilt up to LINE_TILT. Along each
    one, the ink is then measured against the line's own level, the median of
    its pixels: the printed line falls to nothing, and the pen's strokes across
    it, darker than the line, stay.
    """
    inked = ink > 0
    if inked.any(axis=0).mean() < LINE_SPAN and inked.any(axis=1).mean() < LINE_SPAN:
        return ink  # no ink runs across the whole picture, either way: most pictures
    found = [(image, printed_lines(image)) for image in (ink, ink.T)]  # ink.T is a view of ink
    for image, lines in found:  # both found first: cleaning one kind cuts gaps in the other
        if lines is None:
            continue
        on_line = lines >= 0
        ids, values = lines[on_line], image[on_line]
        levels = np.ones(int(ids.max()) + 1, np.float32)
        for k in np.unique(ids):
            inked = values[(ids == k) & (values > 0)]
            levels[k] = np.median(inked) if inked.size else 1.0
        level = levels[ids]
        faint = level <= LINE_INK
        cleaned = np.clip((values - level) / np.maximum(1.0 - level, 1e-6), 0.0, 1.0)
        image[on_line] = np.where(faint, cleaned, values)
    return ink


def printed_lines(ink: np.ndarray) -> np.ndarray | None:
    """For each pixel, the number of the near-level line of ink it lies on, or -1; None when none.

    Lines are looked for on a copy at most _TILT_WIDTH wide. For each angle up
    to LINE_TILT, the copy's pixels are sorted into bands a pixel wide at that
    angle, and a line is three neighbouring bands with ink in LINE_SPAN of the
    columns they cross (a tilted line steps from band to band), with mostly paper
    two bands away on either side: a pen's stroke along the whole picture, as in
    a tight crop of a 0 or a 7, is thicker than that. The angle whose
    lines hold the most ink wins, the smallest of a tie, and each of its lines
    is kept, with a band more on each side.
    """
    h, w = ink.shape
    if min(h, w) < 32 or (ink > 0).any(axis=0).mean() < LINE_SPAN:
        return None
    scale = min(1.0, _TILT_WIDTH / w)
    small = resize(ink, max(1, round(h * scale)), max(1, round(w * scale))) > 0.02
    ys, xs = np.nonzero(small)
    if not small.shape[1] / 2 <= xs.size <= small.size / 2:  # too little ink, or too much for paper
        return None
    best = None
    for angle in sorted(np.arange(-LINE_TILT, LINE_TILT + 1e-9, _TILT_STEP), key=abs):
        slope = float(np.tan(np.radians(angle)))
        lift = small.shape[1] * max(slope, 0.0) + 2  # keeps every band number, less two, positive
        bands = np.rint(ys - xs * slope + lift).astype(np.int64)
        inked = np.zeros((int(bands.max()) + 5, small.shape[1]), bool)
        inked[bands + 2, xs] = True  # two empty bands before the first, and after the last
        cover = (inked[2:-4] | inked[3:-3] | inked[4:-2]).sum(axis=1)  # cover[k]: bands k, k+1, k+2
        beside = (inked[:-6] | inked[6:]).sum(axis=1)  # bands k - 2 and k + 4: paper beside a thin line
        crossed = _columns_inside(np.arange(len(cover)) + 1 - lift, slope, small.shape)
        full = (cover >= LINE_SPAN * crossed) & (beside <= cover / 2)
        if full.any() and (best is None or cover[full].sum() > best[0]):
            best = int(cover[full].sum()), full, slope, lift
    if best is None:
        return None
    _, full, slope, lift = best
    middle = np.flatnonzero(full) + 1
    kept = np.unique(np.concatenate([middle + k for k in (-2, -1, 0, 1, 2)]))
    kept = kept[kept >= 0]
    number = np.full(len(full) + 4, -1, np.int64)  # -1 also past both ends
    number[kept] = np.cumsum(np.diff(np.concatenate([[-2], kept])) > 1) - 1  # touching bands: one line
    rows = np.arange(h, dtype=np.float32)[:, None] * scale
    columns = np.arange(w, dtype=np.float32)[None, :] * (scale * slope)
    bands = np.rint(rows - columns + lift).astype(np.int64)
    return number[np.clip(bands, 0, len(number) - 1)]


def _columns_inside(starts: np.ndarray, slope: float, shape: tuple[int, int]) -> np.ndarray:
    """How many columns each line y = start + x * slope crosses inside an image of ``shape``; a line
    that leaves it through the top or the bottom counts as long only if it crosses half the width."""
    h, w = shape
    x = np.arange(w)[None, :]
    inside = ((starts[:, None] + x * slope >= 0) & (starts[:, None] + x * slope <= h - 1)).sum(axis=1)
    return np.where(inside >= w / 2, inside, np.inf)


def paper_region(departure: np.ndarray) -> tuple[slice, slice] | None:
    """Where a sheet of paper lies in a photo that also shows what it lies on (a desk), or None.

    ``departure`` is the image minus the paper level read from its border, which
    there is the desk. The sheet is then a large, solid region much brighter than
    that: at least PAPER_AREA of the image, filled to PAPER_FILL within its
    bounding box and along each edge of it, which a character's strokes never are,
    however fat. (Uneven light is not a sheet: the fitted level already follows it.)
    A small margin is trimmed off the sheet's edges, where its own edge and shadow lie.
    """
    h, w = departure.shape
    if min(h, w) < 32:
        return None
    bright = float(np.percentile(departure[:: max(1, h // 200), :: max(1, w // 200)], 90))
    if bright < SHEET_CONTRAST:
        return None
    mask = departure > bright / 2
    rows, cols = mask.mean(axis=1), mask.mean(axis=0)
    r = np.flatnonzero(rows > 0.5 * rows.max())
    c = np.flatnonzero(cols > 0.5 * cols.max())
    top, bottom, left, right = int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1
    area = (bottom - top) * (right - left)
    box = mask[top:bottom, left:right]
    if area < PAPER_AREA * h * w or area == h * w or box.mean() < PAPER_FILL:
        return None
    rim = max(1, min(bottom - top, right - left) // 25)  # a sheet is bright all along its edges
    edges = [box[:rim].ravel(), box[-rim:].ravel(), box[:, :rim].ravel(), box[:, -rim:].ravel()]
    if min(float(e.mean()) for e in edges) < PAPER_FILL:  # a blob of fat strokes is not
        return None
    dy, dx = max(1, (bottom - top) // 30), max(1, (right - left) // 30)
    return slice(top + dy, bottom - dy), slice(left + dx, right - dx)


def paper_level(grey: np.ndarray) -> float | np.ndarray:
    """The background's brightness, read from the image's border.

    Usually one level: the median of the border pixels. When the light falls
    unevenly (a photo lit from one side, a darker corner), a smooth surface
    (a quadratic in x and y) fitted to the border instead, so that the darker
    side of the paper does not pass for ink. Ink that touches the border is
    left out of the fit by keeping only the better-fitting half of the pixels.
    """
    h, w = grey.shape
    rows = [np.zeros(w, int), np.full(w, h - 1), np.arange(h), np.arange(h)]
    cols = [np.arange(w), np.arange(w), np.zeros(h, int), np.full(h, w - 1)]
    ys, xs = np.concatenate(rows), np.concatenate(cols)
    step = max(1, len(ys) // _BORDER_SAMPLES)
    ys, xs = ys[::step], xs[::step]
    values = grey[ys, xs].astype(np.float64)
    level = float(np.median(values))
    if min(h, w) < 8 or float(np.ptp(values)) <= UNEVEN_LIGHT:
        return level
    scale = float(max(h, w))
    y, x = ys / scale, xs / scale
    design = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)
    keep = np.abs(values - level) <= np.percentile(np.abs(values - level), 50)
    for _ in range(3):
        kept = design[keep]
        # Least squares through the 6x6 normal equations (lstsq costs five times more here), with
        # a small ridge on the curved terms: when the pixels kept are on two opposite edges only,
        # the curvature across them is unknown, and the flattest surface is the safe guess.
        normal = kept.T @ kept + np.diag(_CURVE_RIDGE) * len(kept)
        try:
            coef = np.linalg.solve(normal, kept.T @ values[keep])
        except np.linalg.LinAlgError:
            return level
        error = np.abs(values - design @ coef)
        keep = error <= np.percentile(error, 50)
    coarse = _quadratic(coef, np.linspace(0, h - 1, 33), np.linspace(0, w - 1, 33), scale)
    if float(np.ptp(coarse)) <= UNEVEN_LIGHT:  # checked on a coarse grid first: most pages are evenly lit
        return level
    return _quadratic(coef, np.arange(h), np.arange(w), scale)


def _quadratic(coef: np.ndarray, ys: np.ndarray, xs: np.ndarray, scale: float) -> np.ndarray:
    """The fitted paper surface at rows ``ys`` and columns ``xs``, as float32 (len(ys), len(xs))."""
    c0, cx, cy, cxx, cyy, cxy = (float(c) for c in coef)
    y = np.asarray(ys, np.float32) / scale
    x = np.asarray(xs, np.float32) / scale
    surface = np.outer(cxy * y, x)  # in place from here: one full-size array, three passes
    surface += (c0 + cy * y + cyy * y * y)[:, None]
    surface += (cx * x + cxx * x * x)[None, :]
    return surface


def _normalise_contrast(ink: np.ndarray) -> np.ndarray:
    """Scale ink so the strongest is 1, and drop the faint paper texture below PAPER_FLOOR."""
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        raise NoInkError("The image is blank: draw or upload a character first.")
    ink = (ink / strongest - PAPER_FLOOR) / (1.0 - PAPER_FLOOR)
    return np.clip(ink, 0.0, 1.0, out=ink).astype(np.float32, copy=False)


def ink_bbox(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right), inclusive, of the pixels above ``threshold``."""
    return _mask_bbox(ink > threshold)


def _mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise NoInkError("The image is blank: draw or upload a character first.")
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


class _Run(NamedTuple):
    """A run of lines (rows or columns) with ink in them, between lines without: first, last, ink."""

    start: int
    end: int
    mass: int


def character_box(
    ink: np.ndarray, threshold: float = INK_THRESHOLD, keep_dots: bool = True
) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right), inclusive, of the character: the ink less any far specks.

    A speck of dust on a scan or a stray dot on the canvas would otherwise
    stretch the crop, and the character would shrink to a few pixels. The
    ink's column profile is split into runs separated by empty columns; the
    heaviest run is the character's core, and each other run joins it, walking
    outwards, if it is heavy or near enough (see SPECK_MASS). Then the same with
    the rows of the columns kept. Ink above the core may be further away (see
    DOT_GAP); with ``keep_dots`` False (a model with no i or j) only if it is a
    stroke, as the flag of a 5 is, and not a dot (see STROKE_LENGTH).
    All this twice, because a crop one way can part specks the other way.
    """
    mask = ink > threshold
    top, bottom, left, right = _mask_bbox(mask)
    mask = mask[top : bottom + 1, left : right + 1]
    for _ in range(2):
        columns, rows = _runs(mask.sum(axis=0)), _runs(mask.sum(axis=1))
        if len(columns) == len(rows) == 1:  # no empty line across the ink: nothing stands apart
            break
        size = max(_core_length(columns), _core_length(rows))
        core = _heaviest(columns)
        core_top = _rows_with_ink(mask[:, columns[core].start : columns[core].end + 1])[0]
        aside = []
        for c in columns:
            part = mask[:, c.start : c.end + 1]
            rise = core_top - _rows_with_ink(part)[-1]
            reach = _reach_above(part.T, c, size, keep_dots) if rise > 0 else 0.0
            aside.append(max(SPECK_GAP * size, min(DOT_SLANT * rise, reach)))
        c0, c1 = _kept_span(columns, core, aside)
        mask = mask[:, c0 : c1 + 1]
        rows = _runs(mask.sum(axis=1))
        core = _heaviest(rows)
        above_below = [
            _reach_above(mask[r.start : r.end + 1], r, size, keep_dots) if k < core else SPECK_GAP * size
            for k, r in enumerate(rows)
        ]
        r0, r1 = _kept_span(rows, core, above_below)
        mask = mask[r0 : r1 + 1]
        top, left = top + r0, left + c0
    rows, columns = _rows_with_ink(mask), _rows_with_ink(mask.T)  # a speck's lines may be left empty
    return top + int(rows[0]), top + int(rows[-1]), left + int(columns[0]), left + int(columns[-1])


def _reach_above(part: np.ndarray, run: _Run, size: int, keep_dots: bool) -> float:
    """How far from the character ink above it may be and still join it: DOT_GAP of its size for a
    dot (when dots are kept) or a stroke, SPECK_GAP otherwise. ``part`` is the run's ink, with the
    run's lines as rows."""
    if keep_dots:
        return DOT_GAP * size
    longest = max(run.end - run.start + 1, _core_length(_runs(part.sum(axis=0))))
    return (DOT_GAP if longest >= STROKE_LENGTH * size else SPECK_GAP) * size


def _runs(profile: np.ndarray) -> list[_Run]:
    """The runs of non-zero values in ``profile`` (ink per row or per column)."""
    edges = np.diff(np.concatenate([[0], (profile > 0).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    cumulative = np.concatenate([[0], np.cumsum(profile)])
    return [_Run(int(a), int(b), int(cumulative[b + 1] - cumulative[a])) for a, b in zip(starts, ends)]


def _heaviest(runs: list[_Run]) -> int:
    return max(range(len(runs)), key=lambda k: runs[k].mass)


def _core_length(runs: list[_Run]) -> int:
    """Length of the heaviest run: the character's size along that axis, specks aside."""
    core = runs[_heaviest(runs)]
    return core.end - core.start + 1


def _rows_with_ink(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask.any(axis=1))


def _kept_span(runs: list[_Run], core: int, gaps: list[float]) -> tuple[int, int]:
    """First and last line of run ``core`` grown outwards by each run heavy enough or within its gap."""
    light = SPECK_MASS * sum(run.mass for run in runs)
    lo, hi = runs[core].start, runs[core].end
    for run, gap in zip(reversed(runs[:core]), reversed(gaps[:core])):
        if run.mass >= light or lo - run.end - 1 <= gap:
            lo = run.start
    for run, gap in zip(runs[core + 1 :], gaps[core + 1 :]):
        if run.mass >= light or run.start - hi - 1 <= gap:
            hi = run.end
    return lo, hi


def ink_crop(image: np.ndarray, keep_dots: bool = True) -> np.ndarray:
    """The ink map (0-1) cropped to the character (see character_box): the first step of every reading."""
    ink = ink_map(image)
    top, bottom, left, right = character_box(ink, keep_dots=keep_dots)
    return ink[top : bottom + 1, left : right + 1]


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a float image; area-averaging when shrinking, bilinear when enlarging."""
    h, w = image.shape
    shrinking = height * width < h * w
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    out = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32), mode="F")
    return np.array(out.resize((width, height), method), dtype=np.float32)


def restore_hairlines(work: np.ndarray) -> np.ndarray:
    """Bring strokes that area-averaging has dimmed back to full ink.

    Shrinking a big canvas averages a hairline with the paper around it, so
    the whole line comes out grey (0.3, say), and only crossings come out
    darker. Scaling by a typical ink level, not the darkest pixel, restores it.
    """
    strong = work[work > 0.2 * float(work.max())]
    level = float(np.percentile(strong, 60)) if strong.size else 1.0
    return np.clip(work / max(level, 1e-6), 0.0, 1.0)


def stroke_width(mask: np.ndarray) -> float:
    """Estimate the mean stroke width of a binary drawing, in pixels.

    A stroke of length L and width W covers about L*W pixels and has about 2*L
    pixels on its edge, so W is about 2 * area / edge. Cheap, and good enough
    to tell a hairline from a fat brush.
    """
    area = int(mask.sum())
    if area == 0:
        return 0.0
    padded = np.pad(mask, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:] & mask
    edge = area - int(interior.sum())
    return 2.0 * area / max(edge, 1)


def stroke_share(image: np.ndarray, keep_dots: bool = True) -> float:
    """The strokes' width as a share of the ink's longer side: how much a fat brush fills a small character.

    Above THICK_STROKES the loops of a 0, 6, 8 or 9 close up, and no preprocessing can open them
    again: the app asks people to draw bigger. ``keep_dots`` as in to_model_input. Raises NoInkError
    for a blank image.
    """
    crop = ink_crop(image, keep_dots) > 0.5
    return stroke_width(crop) / max(crop.shape)


def _morph(image: np.ndarray, size: int, op) -> np.ndarray:
    """Grey dilation (op=np.maximum) or erosion (np.minimum) with a size x size square.

    Separable, so it costs 2 * size array operations. ``image`` must have a
    background margin of at least size / 2, because shifts wrap around.
    """
    offsets = [o for o in range(-(size // 2), size - size // 2) if o]
    out = image
    for axis in (0, 1):
        acc = out.copy()
        for offset in offsets:
            op(acc, np.roll(out, offset, axis=axis), out=acc)
        out = acc
    return out


def normalise_stroke(work: np.ndarray) -> np.ndarray:
    """Thicken hairlines and thin fat brush strokes towards TARGET_STROKE.

    ``work`` is the drawing at WORK_SIZE with a margin of background around it.
    """
    width = stroke_width(work > 0.5)
    gap = TARGET_STROKE - width
    if abs(gap) <= STROKE_TOLERANCE:
        return work
    size = min(int(round(abs(gap))) + 1, 2 * _PAD)
    if gap > 0:
        return _morph(work, size, np.maximum)
    thinned = _morph(work, size, np.minimum)
    # A fat brush can hide thin parts: never erase a stroke altogether.
    if (thinned > 0.5).sum() < 0.25 * (work > 0.5).sum() * TARGET_STROKE / width:
        return work
    return thinned


def centre_by_mass(glyph: np.ndarray, size: int = MODEL_SIZE) -> np.ndarray:
    """Paste ``glyph`` into a size x size square with its centre of mass at the centre."""
    h, w = glyph.shape
    total = float(glyph.sum())
    ys, xs = np.indices(glyph.shape)
    cy = float((ys * glyph).sum()) / total if total else (h - 1) / 2
    cx = float((xs * glyph).sum()) / total if total else (w - 1) / 2
    top = int(np.clip(round((size - 1) / 2 - cy), 0, size - h))
    left = int(np.clip(round((size - 1) / 2 - cx), 0, size - w))
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + h, left : left + w] = glyph
    return out


def to_model_input(image: np.ndarray, keep_dots: bool = True) -> np.ndarray:
    """Turn a drawing, scan or photo into the model's 28x28 uint8 input (white ink on black).

    Steps: find the ink (either polarity, or alpha), crop to it, bring the
    strokes to MNIST width, fit the longer side into 20 px keeping the aspect
    ratio, and put the centre of mass at the centre of 28x28.

    ``keep_dots``: whether ink well above the character may be the dot of an i
    or j (see character_box). False for a model with no i or j.

    Raises ``NoInkError`` for a blank image and ``InvalidImageError`` for an
    array that is not an image.
    """
    crop = ink_crop(image, keep_dots)
    h, w = crop.shape
    scale = WORK_SIZE / max(h, w)
    work = resize(crop, max(1, round(h * scale)), max(1, round(w * scale)))
    work = restore_hairlines(work)
    work = normalise_stroke(np.pad(work, _PAD))

    top, bottom, left, right = ink_bbox(work, threshold=0.05)
    work = work[top : bottom + 1, left : right + 1]
    h, w = work.shape
    scale = FIT_BOX / max(h, w)
    glyph = resize(work, max(1, round(h * scale)), max(1, round(w * scale)))
    out = centre_by_mass(np.clip(glyph, 0.0, 1.0))
    return np.round(out * 255.0).astype(np.uint8)

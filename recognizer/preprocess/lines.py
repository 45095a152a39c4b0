"""The printed lines of ruled or squared paper, and of forms (a line to write on, a box), found at any
small tilt and taken out of the ink."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from recognizer.preprocess.strokes import resize

LINE_SPAN, LINE_INK, LINE_TILT = 0.95, 0.7, 6.0
"""A thin line with ink along at least LINE_SPAN of it, on the whole at most LINE_INK as dark as the
darkest ink, is a printed line of ruled or squared paper: the pen's strokes are darker, and where a
character's stroke runs the whole width of a tightly cropped picture, it is thicker than a printed
line (see printed_lines). Photos tilt the lines by up to LINE_TILT degrees."""

_TILT_STEP, _TILT_WIDTH = 0.25, 256


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
        _, inked = _band_grid(ys, xs, slope, lift, small.shape[1], after=2)
        cover, beside = (stripe.sum(axis=1) for stripe in _stripes(inked))
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


def _band_grid(
    ys: np.ndarray, xs: np.ndarray, slope: float, lift: float, width: int, after: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ink at (ys, xs) sorted into bands a pixel wide at ``slope``: each pixel's band number,
    rint(y - x * slope + lift), and a grid of which columns of each band have ink. The grid's row
    k + 2 is band k: two empty bands come before the first, and ``after`` empty ones after the last,
    so that stripes of bands can be read off it by shifting (see _stripes)."""
    bands = np.rint(ys - xs * slope + lift).astype(np.int64)
    inked = np.zeros((int(bands.max()) + 3 + after, width), bool)
    inked[bands + 2, xs] = True
    return bands, inked


def _stripes(inked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each stripe of three neighbouring bands k, k+1, k+2 of ``_band_grid``'s grid: the columns
    where it has ink, and those where the bands two away on either side (k - 2, k + 4) have ink,
    which a thin printed line does not have beside it."""
    return inked[2:-4] | inked[3:-3] | inked[4:-2], inked[:-6] | inked[6:]


def _columns_inside(starts: np.ndarray, slope: float, shape: tuple[int, int]) -> np.ndarray:
    """How many columns each line y = start + x * slope crosses inside an image of ``shape``; a line
    that leaves it through the top or the bottom counts as long only if it crosses half the width."""
    h, w = shape
    x = np.arange(w)[None, :]
    inside = ((starts[:, None] + x * slope >= 0) & (starts[:, None] + x * slope <= h - 1)).sum(axis=1)
    return np.where(inside >= w / 2, inside, np.inf)


FORM_LINE, FORM_OVERHANG, FORM_SIDE, FORM_FREE_END, FORM_INK = 1.6, 0.1, 0.4, 0.25, 0.35
"""Lines printed on a form: a line to write on, under the character, or the four sides of a box
around it. Each is thin, straight and dark (at least FORM_INK: what the ruled-paper step leaves of a
faint line is not), at least FORM_LINE times as long as the character is big, and runs on past it at
both ends by at least FORM_OVERHANG of the character's size. The character lies mostly on one side
of it (no more than FORM_SIDE of its ink on the other: the foot of a 7 may hang below the line it is
written on). It touches a box not at all, and a line under it only FORM_FREE_END of its size or more
from either end of the line. No stroke of a character is all of that: the bar of a T or a 7 is over
the rest, and about as long as the character is tall; the stem of a 1, a d or a 4 is beside the
rest, but never on all four sides; and the long foot of a 2 or a Z is joined to the rest at one end."""

_FORM_SIZE, _FORM_TILT, _FORM_GAP = 128, 6, 2

_FORM_MIN_CHARACTER = 9
"""What is left beside a form's line must be at least this big, in pixels of the small copy: in a
tiny picture, the stripe that the line is taken out of cuts away enough of a 2's diagonal to leave
its foot long beside the rest."""


class _Segment(NamedTuple):
    """A thin straight run of ink on the small copy, from column ``start`` to ``stop``, its centre at
    row ``offset + column * slope``; on the transposed copy when ``transposed`` (a line down the page)."""

    transposed: bool
    slope: float
    offset: float
    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start + 1

    def spans(self, columns: np.ndarray) -> np.ndarray:
        """Whether each of ``columns`` (along the line) lies between its ends."""
        return (columns >= self.start) & (columns <= self.stop)

    def across(self, ys: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How far each pixel (ys, xs) of the small copy lies from this line's centre, across it
        (negative: over it, or left of it), and its column along it."""
        rows, columns = (xs, ys) if self.transposed else (ys, xs)
        return rows - (self.offset + columns * self.slope), columns


_HALF_STRIPE = 2.5
"""Half the width, in pixels of the small copy, of the stripe that a line is taken out of: a line
as thick as a stroke, and a pixel more on each side for a slope that is not quite right."""


def without_form_lines(ink: np.ndarray) -> np.ndarray:
    """``ink`` with the lines printed on a form taken out (see FORM_LINE), in place.

    The lines are found on a small copy: the longest thin straight runs of ink, across or down,
    at the tilt (up to _FORM_TILT degrees) that lines them up best. They are taken out only if what
    is left without them is a character beside which they are form lines. Where a stroke crosses
    a line, the line is left there, so that the stroke keeps its piece (see _clear).
    """
    h, w = ink.shape
    if min(h, w) < 32:  # training images (28 px) and icons: nothing printed to take out
        return ink
    scale = min(1.0, _FORM_SIZE / max(h, w))
    small = resize(ink, max(1, round(h * scale)), max(1, round(w * scale))) > 0.02
    longest = sorted(_straight_runs(small, False) + _straight_runs(small.T, True), key=lambda s: -s.length)
    dark = (s for s in longest if _darkness(ink.T if s.transposed else ink, s, scale) >= FORM_INK)
    for segment in form_lines(small, dark):  # darkness is measured only for the runs tried
        _clear(ink.T if segment.transposed else ink, segment, scale)
    return ink


def form_lines(small: np.ndarray, longest_first: Iterable[_Segment]) -> list[_Segment]:
    """The fewest of the first of ``longest_first`` (runs of ink on ``small``, the longest first)
    that are lines under, or a box around, what is left (see FORM_LINE); none when there are no
    such lines, as in every picture of a character alone.

    The longest come first: a box's four sides are tried together, because with any one of them
    left in, what is left is as big as the box. Each line taken out changes what is left, so the
    lines already taken are judged again against it.
    """
    ys, xs = np.nonzero(small)
    left = np.ones(ys.size, bool)
    taken: list[_Segment] = []
    for segment in longest_first:
        taken.append(segment)
        distance, columns = segment.across(ys, xs)
        left &= ~((np.abs(distance) <= _HALF_STRIPE) & segment.spans(columns))
        if np.count_nonzero(left) < 8:
            return []
        sides = {_side(s, ys[left], xs[left]) for s in taken}
        if sides == {"under"} or sides == {"under", "over", "left", "right"}:
            return taken
    return []


def _side(segment: _Segment, ys: np.ndarray, xs: np.ndarray) -> str | None:
    """Where ``segment`` lies as a form's line beside the character whose ink is at (ys, xs): "under",
    "over", "left" or "right" of it; None when it is no such line (see FORM_LINE)."""
    distance, columns = segment.across(ys, xs)
    first, last = np.percentile(columns, [1, 99])
    near, far = np.percentile(distance, [1, 99])
    size = max(last - first, far - near) + 1
    if size < _FORM_MIN_CHARACTER:
        return None
    past = FORM_OVERHANG * size
    if segment.length < FORM_LINE * size or segment.start > first - past or segment.stop < last + past:
        return None
    before, after = np.count_nonzero(distance < 0), np.count_nonzero(distance > 0)
    if min(before, after) > FORM_SIDE * distance.size:
        return None
    side = (("over", "under"), ("left", "right"))[int(segment.transposed)][int(before > after)]
    touching = columns[segment.spans(columns) & (np.abs(distance) <= _HALF_STRIPE + 1)]  # and just outside
    if side != "under":
        return side if touching.size <= max(2, 0.01 * distance.size) else None
    free = FORM_FREE_END * size  # a line's ends are free: the foot of a 2 or a Z is not
    if touching.size and (touching.min() - free < segment.start or touching.max() + free > segment.stop):
        return None
    return side


def _straight_runs(small: np.ndarray, transposed: bool) -> list[_Segment]:
    """The long thin straight runs of ink across ``small`` (at least a fifth of its width).

    They are looked for at the tilt at which two neighbouring bands cross the most columns with
    ink, as a thin printed line does when the tilt is right, in stripes of three bands, with gaps
    of up to _FORM_GAP pixels (a JPEG's or a scan's dropouts). A run is thin when, along most of
    it, there is no ink two bands away on either side. Of runs in touching stripes, the longest
    stands for them all, and its centre line is then fitted to its ink: whole degrees of tilt
    leave a long line drifting across the bands.
    """
    ys, xs = np.nonzero(small)
    w = small.shape[1]
    if xs.size < 8:
        return []
    slope = _best_tilt(ys, xs, w)
    bands, inked = _band_grid(ys, xs, slope, w * max(slope, 0.0), w, after=4)  # bands from 0
    cover, beside = _stripes(inked)
    cover = np.pad(cover, ((0, 0), (0, _FORM_GAP)))
    beside = np.cumsum(np.pad(beside, ((0, 0), (1, 0))), axis=1)  # to count along a run
    grown = cover.copy()  # a closing along each row, so that gaps of up to _FORM_GAP are filled
    for d in range(1, _FORM_GAP + 1):
        grown[:, d:] |= cover[:, :-d]
    closed = grown.copy()
    for d in range(1, _FORM_GAP + 1):
        closed[:, :-d] &= grown[:, d:]
    edges = np.diff(np.pad(closed[:, :w], ((0, 0), (1, 1))).astype(np.int8), axis=1)
    (bands_of_runs, starts), (_, stops) = np.nonzero(edges == 1), np.nonzero(edges == -1)  # row by row
    thin = beside[bands_of_runs, stops] - beside[bands_of_runs, starts] <= (stops - starts) / 2
    chosen = (stops - starts >= max(8, w / 5)) & thin
    runs = zip(bands_of_runs[chosen], starts[chosen], stops[chosen])
    found = [(int(band), int(start), int(stop) - 1) for band, start, stop in runs]
    kept = []
    for band, start, stop in sorted(found, key=lambda run: run[1] - run[2]):
        if not any(abs(band - b) <= 2 and start <= e and s <= stop for b, s, e in kept):
            kept.append((band, start, stop))
    segments = []
    for band, start, stop in kept:
        on = (bands >= band) & (bands <= band + 2) & (xs >= start) & (xs <= stop)
        slope, offset = np.polyfit(xs[on], ys[on], 1) if np.ptp(xs[on]) > 0 else (0.0, float(ys[on].mean()))
        segments.append(_Segment(transposed, float(slope), float(offset), start, stop))
    return segments


_TILTS = np.tan(np.radians(sorted(range(-_FORM_TILT, _FORM_TILT + 1), key=abs)))
"""The slopes tried for a form's lines, the straightest first (so that it wins a tie)."""


def _best_tilt(ys: np.ndarray, xs: np.ndarray, width: int) -> float:
    """The slope of _TILTS at which two neighbouring bands of the ink at (ys, xs) cross the most
    columns with ink (a fat stroke counts no more), as a thin printed line does when the tilt is
    right. All tilts at once, on one grid: a loop over them cost more in calls than in work."""
    lifts = width * np.maximum(_TILTS, 0.0)
    bands = np.rint(ys[None, :] - xs[None, :] * _TILTS[:, None] + lifts[:, None]).astype(np.int64)
    inked = np.zeros((len(_TILTS), int(bands.max()) + 2, width), bool)
    inked[np.arange(len(_TILTS))[:, None], bands, xs[None, :]] = True
    reach = (inked[:, 1:] | inked[:, :-1]).sum(axis=2).max(axis=1)
    return float(_TILTS[int(reach.argmax())])  # the first of the best: the straightest


def _stripe_pixels(image: np.ndarray, segment: _Segment, scale: float) -> tuple[np.ndarray, ...]:
    """The pixels of ``image`` in the stripe of ``segment`` (found on the copy at ``scale``): the
    columns along it; for each, the rows from -half to half of the stripe around the line's centre;
    and which of those rows are inside the image. Returns (columns, offsets, rows, inside)."""
    h, w = image.shape
    first = max(0, int(np.floor(segment.start / scale)))
    last = min(w - 1, int(np.ceil((segment.stop + 1) / scale)))
    columns = np.arange(first, last + 1)
    centre = (segment.offset + ((columns + 0.5) * scale - 0.5) * segment.slope + 0.5) / scale - 0.5
    half = int(np.ceil(_HALF_STRIPE / scale))
    offsets = np.arange(-half, half + 1)
    rows = np.rint(centre)[:, None].astype(np.int64) + offsets[None, :]
    inside = (rows >= 0) & (rows < h)
    return columns, offsets, np.clip(rows, 0, h - 1), inside


def _darkness(image: np.ndarray, segment: _Segment, scale: float) -> float:
    """How dark ``segment`` is in ``image``: the median, along it, of the darkest pixel across it."""
    columns, _, rows, inside = _stripe_pixels(image, segment, scale)
    return float(np.median((image[rows, columns[:, None]] * inside).max(axis=1))) if columns.size else 0.0


def _clear(image: np.ndarray, segment: _Segment, scale: float) -> None:
    """Clear ``segment`` (found on the copy at ``scale``) from ``image``, in place.

    Where the line is alone in its stripe, the stripe is cleared. Where a stroke runs along it or
    touches it, only the line's own rows are (where it lies and how thick it is are read from the
    columns where it is alone), and where a stroke crosses it, with ink just over it and just under
    it, the line stays, so that the stroke keeps its piece.
    """
    columns, offsets, rows, inside = _stripe_pixels(image, segment, scale)
    inked = (image[rows, columns[:, None]] > 0.3) & inside
    width = inked.sum(axis=1)
    if not width.any():
        return
    alone = width <= np.median(width[width > 0]) + 2
    clear = inside & alone[:, None]
    lined = alone & (width > 0)
    if lined.any() and not alone.all():
        middle = (inked[lined] * offsets).sum(axis=1) / width[lined]  # where the line lies in each column
        middle = np.interp(columns, columns[lined], middle)[:, None]
        thick = np.median(width[lined]) / 2 + 1
        own = np.abs(offsets[None, :] - middle) <= thick
        over = _ink_at(inked, np.rint(middle - thick - 1))
        under = _ink_at(inked, np.rint(middle + thick + 1))
        clear |= inside & own & ~alone[:, None] & ~(over & under)[:, None]
    image[rows[clear], np.broadcast_to(columns[:, None], rows.shape)[clear]] = 0.0


def _ink_at(inked: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Whether each row of ``inked`` (columns x offsets from -half to half) has ink at ``offset``."""
    half = inked.shape[1] // 2
    index = np.clip(offset[:, 0].astype(np.int64) + half, 0, inked.shape[1] - 1)
    return inked[np.arange(inked.shape[0]), index]

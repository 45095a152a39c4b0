"""What every data source hands to training: images already through the shared preprocessing.

Each source module returns raw uint8 images (white ink on black, upright) with
labels in EMNIST byclass order (0-9, A-Z, a-z) and, where it is known, the writer.
:func:`preprocess_all` then passes every image through
``recognizer.preprocess.to_model_input``, the function serving uses, and caches
the result on disk so the next run starts at once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from recognizer import preprocess
from recognizer.errors import NoInkError
from recognizer.labels import BYCLASS

CACHE_DIR = Path(os.environ.get("HWR_CACHE", Path.home() / ".cache" / "handwriting-recognizer"))


@dataclass
class Split:
    """Images (N, 28, 28) uint8, byclass labels (N,), and writers (N,) where known."""

    x: np.ndarray
    y: np.ndarray
    writer: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> Split:
        return Split(self.x[index], self.y[index], self.writer[index], self.source)

    def chars(self) -> np.ndarray:
        """The labels as characters, e.g. 'a'."""
        return np.asarray(BYCLASS)[self.y]


def concat(splits: list[Split]) -> Split:
    return Split(
        np.concatenate([s.x for s in splits]),
        np.concatenate([s.y for s in splits]),
        np.concatenate([s.writer.astype(str) for s in splits]),
        "+".join(s.source for s in splits),
    )


def _preprocess_one(image: np.ndarray, keep_dots: bool = True) -> np.ndarray:
    try:
        return preprocess.to_model_input(image, keep_dots)
    except NoInkError:
        return np.zeros((preprocess.MODEL_SIZE,) * 2, np.uint8)


def _preprocess_chunk(images, keep_dots: bool = True) -> np.ndarray:
    return np.stack([_preprocess_one(im, keep_dots) for im in images])


def _probe_images() -> list[np.ndarray]:
    """A fixed set of varied drawings: thin and fat strokes, both polarities, alpha, odd shapes,
    a speck far from the ink, the dot of an i, and ruled paper."""
    rng = np.random.default_rng(1234)
    probes = []
    for i in range(24):
        side = int(rng.integers(28, 400))
        ys, xs = np.indices((side, side))
        cy, cx, r = rng.uniform(0.3, 0.7, 2).tolist() + [rng.uniform(0.15, 0.45)]
        width = rng.uniform(0.01, 0.2)
        ring = np.abs(np.hypot(ys / side - cy, (xs / side - cx) * rng.uniform(0.5, 2)) - r) < width
        bar = (np.abs(xs / side - cx) < width / 2) & (ys / side > cy)
        ink = ((ring | bar) * rng.uniform(0.5, 1.0) * 255).astype(np.uint8)
        if i % 3 == 1:
            ink = 255 - ink
        elif i % 3 == 2:
            ink = np.dstack([np.zeros_like(ink)] * 3 + [ink])
        probes.append(ink)
    ys, xs = np.indices((300, 300))  # a ring with a speck of dust far from it, and an i with its dot
    speck = ((np.abs(np.hypot(ys - 150, xs - 150) - 40) < 5) * 255).astype(np.uint8)
    speck[10:14, 280:284] = 255
    dotted = np.zeros((300, 300), np.uint8)
    dotted[150:270, 140:156], dotted[60:76, 170:186] = 255, 255
    ruled = np.full((300, 400), 235, np.uint8)  # a character on tilted ruled paper
    ruled[(ys[:, :1] + 0.03 * np.arange(400)).astype(int) % 60 < 3] = 120
    ruled[120:200, 180:190] = 30
    return [*probes, speck, dotted, ruled]


def _preprocess_version(keep_dots: bool = True) -> str:
    """A fingerprint of what the preprocessing does: the hash of its outputs on fixed probe drawings.

    Caches stay valid across edits that change nothing (a speed-up, a comment)
    and are dropped by any edit that changes an output.
    """
    digest = hashlib.sha256()
    for image in _probe_images():
        digest.update(_preprocess_one(image, keep_dots).tobytes())
    return digest.hexdigest()[:12]


def preprocess_all(images, cache_key: str | None = None, keep_dots: bool = True) -> np.ndarray:
    """Run every image through the shared preprocessing, in parallel, cached by content.

    ``images`` is any sliceable sequence of images: an array, or a lazy sequence
    that draws its images when a worker iterates over it. The cache key includes
    the preprocessing's fingerprint (:func:`_preprocess_version`), so a change to
    what it outputs invalidates every cache. ``keep_dots`` is passed on to
    ``to_model_input``: True for a task with an i or j (``recognizer.labels.has_dots``).
    """
    path = None
    if cache_key:
        path = CACHE_DIR / f"{cache_key}-{_preprocess_version(keep_dots)}.npy"
        if path.exists():
            return np.load(path)
    chunks = [images[i : i + 2000] for i in range(0, len(images), 2000)]
    one_chunk = partial(_preprocess_chunk, keep_dots=keep_dots)
    workers = min(os.cpu_count() or 1, 8)
    if workers > 1 and len(chunks) > 1:
        with Pool(workers) as pool:
            out = np.concatenate(pool.map(one_chunk, chunks))
    else:
        out = (
            np.concatenate([one_chunk(c) for c in chunks])
            if chunks
            else np.zeros((0, 28, 28), np.uint8)
        )
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, out)
        tmp.replace(path)
    return out


def writer_split(
    writers: np.ndarray, fractions: tuple[float, float], seed: int, test_writers: set[str] = frozenset()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split sample indices into train/val/test so that no writer is in two of them.

    ``fractions`` are the (val, test) shares of writers. ``test_writers`` always
    go to test: the writers of the repository's test fixtures, so that the tests
    never score a model on handwriting it was trained on.
    """
    unique = np.array(sorted(set(writers) - set(test_writers)))
    rng = np.random.default_rng(seed)
    rng.shuffle(unique)
    n_val = max(1, int(round(len(unique) * fractions[0])))
    n_test = int(round(len(unique) * fractions[1]))
    val_w = set(unique[:n_val])
    test_w = set(unique[n_val : n_val + n_test]) | set(test_writers)
    which = np.array([2 if w in test_w else 1 if w in val_w else 0 for w in writers])
    return tuple(np.flatnonzero(which == k) for k in range(3))  # type: ignore[return-value]

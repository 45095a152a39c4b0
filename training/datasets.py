"""Assemble train / validation / test sets for a task from the data sources it is given.

- digits: MNIST. Validation is 5,000 training images set aside (seeded), never the test set.
- letters, characters: any mix of femnist, unipen, emnist and mnist. Sources with
  writer ids are split by **writer**, so validation and test measure writers the
  model has never seen. EMNIST and MNIST have no writer ids; their own official
  train/test split (which separates writers) is used instead.

Labels come back as indices into the task's label list (``recognizer.labels.MODEL_LABELS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recognizer.labels import BYCLASS, MODEL_LABELS, has_dots
from training.data import emnist, femnist, mnist, unipen
from training.data.base import Split, concat, writer_split
from training.data.pens import with_other_pens

DEFAULT_SOURCES = {"digits": "mnist", "letters": "femnist,unipen", "characters": "femnist,unipen"}
WRITER_FRACTIONS = (0.075, 0.075)
"""Share of writers held out for validation and for test, in sources that name their writers."""


@dataclass
class TaskData:
    labels: list[str]
    train: Split
    val: Split
    test: Split
    sources: dict = field(default_factory=dict)
    """What each source contributed, for the report."""


def source_parts(data: TaskData, split: str = "test") -> dict[str, slice]:
    """Where each source's samples sit in ``data.test`` (or ``data.val``): concatenated in source order."""
    parts, start = {}, 0
    for name, counts in data.sources.items():
        if counts[split]:
            parts[name] = slice(start, start + counts[split])
        start += counts[split]
    return parts


def _to_task(split: Split, labels: list[str]) -> Split:
    """Keep the samples whose class is in ``labels``, relabelled as indices into ``labels``."""
    index = {BYCLASS.index(c): i for i, c in enumerate(labels)}
    keep = np.isin(split.y, list(index))
    out = split.take(np.flatnonzero(keep))
    out.y = np.array([index[int(v)] for v in out.y], dtype=np.int64)
    return out


def _random_split(n: int, val: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[val:]), np.sort(order[:val])


def load_task(
    task: str,
    sources: str | None = None,
    data_dir: str | None = None,
    emnist_zip: str | None = None,
    limit: int | None = None,
    seed: int = 42,
    renderings: int = 1,
    styles: float = 0.0,
    habits: str | None = None,
    pens: float = 0.0,
) -> TaskData:
    """Load and split the data for ``task`` ('digits', 'letters' or 'characters').

    ``renderings`` > 1 draws each UniPen training trajectory that many times,
    each with its own random brush, size and position: more sketchpad-like
    training images from the same writers. Validation and test keep one
    drawing per trajectory, so their scores compare across settings.
    ``styles`` is the share of 0, 1, 7 and Z/z in those extra drawings that get
    a regional writing habit (``training/data/styles.py``); ``habits`` narrows
    them to some of those characters (default: all of them).
    ``pens`` adds that share of the training images again, redrawn with a thin or a fat pen
    (``training/data/pens.py``).
    """
    labels = MODEL_LABELS[task]
    keep_dots = has_dots(labels)
    names = (sources or DEFAULT_SOURCES[task]).split(",")
    trains, vals, tests, info = [], [], [], {}
    for name in names:
        if name == "mnist":
            parts = mnist.load(_sub(data_dir, "mnist"), limit, keep_dots)
            tr, va = _random_split(len(parts["train"]), min(5000, len(parts["train"]) // 10), seed)
            pieces = [parts["train"].take(tr), parts["train"].take(va), parts["test"]]
        elif name == "emnist":
            parts = emnist.load(
                emnist_zip, _sub(data_dir, "emnist-sample") if data_dir else None, limit, keep_dots
            )
            tr, va = _random_split(len(parts["train"]), len(parts["train"]) // 10, seed)
            pieces = [parts["train"].take(tr), parts["train"].take(va), parts["test"]]
        elif name in ("femnist", "unipen"):
            module = femnist if name == "femnist" else unipen
            path = _sub(data_dir, name) or module.DEFAULT_PATH
            split = module.load(path, limit, keep_dots=keep_dots)
            held = fixture_writers(name)
            train, val, test = writer_split(split.writer, WRITER_FRACTIONS, seed, held)
            pieces = [split.take(train), split.take(val), split.take(test)]
            if name == "unipen" and renderings > 1:
                habit_chars = habits or unipen.ALL_HABITS
                extra = [
                    unipen.load(path, limit, r, styles, habit_chars, keep_dots).take(train)
                    for r in range(1, renderings)
                ]
                pieces[0] = concat([pieces[0], *extra])
        else:
            raise SystemExit(f"unknown source {name!r}; use mnist, emnist, femnist, unipen")
        pieces = [_to_task(p, labels) for p in pieces]
        trains.append(pieces[0])
        vals.append(pieces[1])
        tests.append(pieces[2])
        info[name] = {
            "train": len(pieces[0]),
            "val": len(pieces[1]),
            "test": len(pieces[2]),
            "writer_disjoint": name in ("femnist", "unipen"),
        }
    train = concat(trains)
    if pens:
        train = concat([train, with_other_pens(train, pens, seed, keep_dots)])
    return TaskData(labels, train, concat(vals), concat(tests), info)


def fixture_writers(source: str) -> set[str]:
    """Writers whose samples the repository's tests use: they are never trained on."""
    fixtures = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
    if source == "unipen":
        return {s["writer"] for s in unipen.read(fixtures / "unipen_sample.jsonl.gz")}
    if source == "femnist":
        with np.load(fixtures / "femnist_sample.npz") as data:
            return set(data["writer"].astype(str))
    return set()


def _sub(data_dir: str | None, name: str) -> str | None:
    """The folder of source ``name``: ``<data-dir>/<name>`` when it exists, else ``<data-dir>`` itself.

    So ``--data-dir ../shared/data/mnist`` (the IDX files) and ``--data-dir ../shared/data``
    (one sub-folder a source) both work.
    """
    if not data_dir:
        return None
    sub = Path(data_dir) / name
    return str(sub) if sub.exists() else data_dir

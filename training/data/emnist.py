"""EMNIST byclass, read from the official zip exactly as users get it.

The ``emnist`` package downloads and caches ``~/.cache/emnist/emnist.zip``, but
its ``parse_idx`` fails under NumPy 2. So we take the zip (downloading it with
the package when there is none and the network allows), read the IDX files
inside it ourselves, and transpose the images, which EMNIST stores transposed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from training.data.base import Split, preprocess_all
from training.data.idx import read_idx

PACKAGE_CACHE = Path.home() / ".cache" / "emnist" / "emnist.zip"


def find_zip(emnist_zip: str | Path | None = None, data_dir: str | Path | None = None) -> Path:
    """Locate emnist.zip: an explicit path, else ``<data_dir>/emnist.zip`` if it is there, else the
    emnist package's cache, downloading it there first if need be (about 535 MB, once)."""
    if emnist_zip:
        return Path(emnist_zip)
    if data_dir and (Path(data_dir) / "emnist.zip").exists():
        return Path(data_dir) / "emnist.zip"
    if PACKAGE_CACHE.exists():
        return PACKAGE_CACHE
    import emnist  # the real download path, for users with internet

    return Path(emnist.ensure_cached_data())


def read_split(zip_path: str | Path, split: str, subset: str = "byclass") -> tuple[np.ndarray, np.ndarray]:
    """Return (images, labels) of one split, images upright: (N, 28, 28) uint8, white on black."""
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()

        def member(kind: str) -> bytes:
            suffix = f"emnist-{subset}-{split}-{kind}-ubyte.gz"
            matches = [n for n in names if n.endswith(suffix) or n.endswith(suffix[:-3])]
            if not matches:
                raise FileNotFoundError(f"{suffix} is not in {zip_path}")
            return archive.read(matches[0])

        images = read_idx(member("images-idx3"))
        labels = read_idx(member("labels-idx1"))
    return np.ascontiguousarray(images.transpose(0, 2, 1)), labels.astype(np.int64)


def load(
    emnist_zip: str | Path | None = None,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    keep_dots: bool = True,
) -> dict[str, Split]:
    """EMNIST byclass train and test, preprocessed. EMNIST has no writer ids."""
    path = find_zip(emnist_zip, data_dir)
    out = {}
    for split in ("train", "test"):
        x, y = read_split(path, split)
        if limit:
            x, y = x[:limit], y[:limit]
        key = f"emnist-{split}-{path.stat().st_size}-{len(y)}" if not limit else None
        out[split] = Split(preprocess_all(x, key, keep_dots), y, np.full(len(y), "", dtype=object), "emnist")
    return out

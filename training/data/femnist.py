"""FEMNIST: NIST SD19 characters by 604 writers (LEAF's sample), byclass labels, with writer ids.

The images are white ink on black and upright, but neither cropped nor centred;
the shared preprocessing does that, exactly as it does for user input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data.base import Split, preprocess_all

DEFAULT_PATH = Path("../shared/data/femnist/femnist_byclass_dev.npz")


def load(path: str | Path = DEFAULT_PATH, limit: int | None = None, keep_dots: bool = True) -> Split:
    """Every FEMNIST sample, preprocessed, with its writer."""
    path = Path(path)
    if path.is_dir():
        path = path / "femnist_byclass_dev.npz"
    with np.load(path) as data:
        x, y, writer = data["x"], data["y"].astype(np.int64), data["writer"]
    if limit:
        x, y, writer = x[:limit], y[:limit], writer[:limit]
    key = f"femnist-{path.stat().st_size}-{len(y)}" if not limit else None
    return Split(preprocess_all(x, key, keep_dots), y, writer.astype(str), "femnist")

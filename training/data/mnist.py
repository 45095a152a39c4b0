"""MNIST: 70,000 digits, white ink on black, from a local folder of IDX files or keras' download."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data.base import Split, preprocess_all
from training.data.idx import read_idx

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find(data_dir: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (data_dir / name).exists():
            return data_dir / name
    raise FileNotFoundError(f"{stem}(.gz) not found in {data_dir}")


def load_raw(data_dir: str | Path | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return {'train': (x, y), 'test': (x, y)} as uint8 arrays.

    With ``data_dir``, read the four official IDX files there; without it, use
    ``keras.datasets.mnist.load_data()``, which downloads MNIST once.
    """
    if data_dir is None:
        import keras

        (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data()
        return {"train": (xtr, ytr), "test": (xte, yte)}
    data_dir = Path(data_dir)
    return {
        split: (read_idx(_find(data_dir, images)), read_idx(_find(data_dir, labels)))
        for split, (images, labels) in FILES.items()
    }


def load(
    data_dir: str | Path | None = None, limit: int | None = None, keep_dots: bool = True
) -> dict[str, Split]:
    """MNIST, preprocessed, as {'train', 'test'} splits. MNIST has no writer ids."""
    out = {}
    for split, (x, y) in load_raw(data_dir).items():
        if limit:
            x, y = x[:limit], y[:limit]
        key = f"mnist-{split}-{len(y)}" if not limit else None
        xp = preprocess_all(x, key, keep_dots)
        out[split] = Split(xp, y.astype(np.int64), np.full(len(y), "", dtype=object), "mnist")
    return out

"""The float Keras model behind each int8 file, kept small for the repository.

``training.retrain`` fine-tunes from these weights. A ``.keras`` file of our
200k-parameter CNN is 2.4 MB (HDF5 overhead); the same weights in a compressed
npz are about a third of that, and the architecture is rebuilt by name.

The line model's 620k weights are stored as float16 (``models/lines.weights.npz``, 1.2 MB; float32
would be 2.3 MB): they are only a starting point for fine-tuning, and on training lines float16
changes its logits by at most 0.11 and none of its best classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_float_weights(model, path: str | Path, dtype: type = np.float32) -> None:
    """Save the model's weights, in order, to a compressed .npz (as ``dtype``)."""
    np.savez_compressed(path, *[w.astype(dtype) for w in model.get_weights()])


def load_weights(model, path: str | Path):
    """Set ``model``'s weights from a file of :func:`save_float_weights` (float16 comes back as float32)."""
    with np.load(path) as data:
        model.set_weights([data[f"arr_{i}"].astype(np.float32) for i in range(len(data.files))])
    return model


def load_float_model(arch: str, num_classes: int, path: str | Path):
    """Rebuild ``arch`` and load the weights saved by :func:`save_float_weights`."""
    from training.architectures import build

    return load_weights(build(arch, num_classes), path)

"""The float Keras model behind each int8 file, kept small for the repository.

``training.retrain`` fine-tunes from these weights. A ``.keras`` file of our
200k-parameter CNN is 2.4 MB (HDF5 overhead); the same weights in a compressed
npz are about a third of that, and the architecture is rebuilt by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_float_weights(model, path: str | Path) -> None:
    """Save the model's weights, in order, to a compressed .npz."""
    np.savez_compressed(path, *[w.astype(np.float32) for w in model.get_weights()])


def load_float_model(arch: str, num_classes: int, path: str | Path):
    """Rebuild ``arch`` and load the weights saved by :func:`save_float_weights`."""
    from training.architectures import build

    model = build(arch, num_classes)
    with np.load(path) as data:
        model.set_weights([data[f"arr_{i}"] for i in range(len(data.files))])
    return model

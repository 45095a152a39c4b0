"""Fold BatchNormalization into the next layer before int8 conversion.

Our CNNs put BatchNorm *after* the ReLU (Conv -> ReLU -> BN), which the TFLite
converter cannot fuse into the convolution before it. It then survives as a
separate MUL and ADD, each quantized to int8 on its own, and that costs
accuracy (0.3 to 0.6 points on MNIST for ``seed_nopool``). At inference a BN is
a per-channel affine map ``a * x + b``, and the next layer is linear, so the
map folds into that layer's weights: ``W (a x + b) = (W a) x + W b``.

The fold is exact where the next layer is a 'valid' convolution or a Dense
layer. Where it is a 'same' convolution, the zero padding differs at the
border (the original pads the BN output with zeros, the folded one pads its
input with zeros); the export measures the folded model's accuracy, so the
parity gate covers this too.
"""

from __future__ import annotations

import numpy as np


def _affine(bn) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta, mean, var = [np.asarray(w, np.float64) for w in bn.get_weights()]
    a = gamma / np.sqrt(var + bn.epsilon)
    return a, beta - mean * a


def fold_batchnorm(model):
    """Return an equivalent Sequential model without BatchNormalization or Dropout layers."""
    import keras

    kept, weights = [], []
    pending = None  # (a, b) of a BN waiting for the next linear layer
    flat_positions = 1
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            pending = _affine(layer)
            continue
        if kind == "Dropout":
            continue
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        if kind == "Flatten":
            flat_positions = int(np.prod(layer.input.shape[1:-1]))
        if pending is not None and kind in ("Conv2D", "Dense"):
            a, b = pending
            if kind == "Dense":
                a, b = np.tile(a, flat_positions), np.tile(b, flat_positions)
                w = [w[0] * a[:, None], w[1] + b @ w[0]]
            else:
                w = [w[0] * a[None, None, :, None], w[1] + (w[0] * b[None, None, :, None]).sum((0, 1, 2))]
            pending = None
        elif pending is not None and kind not in ("Flatten",):
            raise ValueError(f"cannot fold a BatchNormalization into a following {kind}")
        kept.append(type(layer).from_config(layer.get_config()))
        weights.append(w)
    if pending is not None:
        raise ValueError("the model ends with a BatchNormalization; nothing to fold it into")
    folded = keras.Sequential([keras.Input(model.input_shape[1:]), *kept], name=f"{model.name}_folded")
    for layer, w in zip(folded.layers, weights):
        if w:
            layer.set_weights([v.astype(np.float32) for v in w])
    return folded

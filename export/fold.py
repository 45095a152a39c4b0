"""Fold BatchNormalization into the next layer before int8 conversion.

Our CNNs put BatchNorm *after* the ReLU (Conv -> ReLU -> BN), which the TFLite
converter cannot fuse into the convolution before it. It then survives as a
separate MUL and ADD, each quantized to int8 on its own, and that costs
accuracy (0.3 to 0.6 points on MNIST for ``seed_nopool``). At inference a BN is
a per-channel affine map ``a * x + b``, and the next layer is linear, so the
map folds into that layer's weights: ``W (a x + b) = (W a) x + W b``.

The fold is exact where the next layer is a 'valid' convolution or a Dense
layer, so only those BNs are folded. Before a 'same' convolution it would not
be: the original pads the BN's output with zeros, a folded one would pad its
input with zeros, and on the 2x2 maps at the end of our networks that border
is most of the picture. Those BNs stay as they are.
"""

from __future__ import annotations

import numpy as np


def _affine(bn) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta, mean, var = [np.asarray(w, np.float64) for w in bn.get_weights()]
    a = gamma / np.sqrt(var + bn.epsilon)
    return a, beta - mean * a


def fold_batchnorm(model):
    """Return an equivalent Sequential model with every foldable BatchNormalization folded, and no Dropout."""
    import keras

    layers = [layer for layer in model.layers if type(layer).__name__ != "Dropout"]
    kept, weights = [], []
    flat_positions = 1
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        if kind == "BatchNormalization" and _foldable_into(layers[i + 1 :]):
            continue
        if kind == "Flatten":
            flat_positions = int(np.prod(layer.input.shape[1:-1]))
        elif kind in ("Conv2D", "Dense") and _bn_before(layers, i) is not None:
            a, b = _affine(_bn_before(layers, i))
            if kind == "Dense":
                a, b = np.tile(a, flat_positions), np.tile(b, flat_positions)
                w = [w[0] * a[:, None], w[1] + b @ w[0]]
            else:
                w = [w[0] * a[None, None, :, None], w[1] + (w[0] * b[None, None, :, None]).sum((0, 1, 2))]
        kept.append(type(layer).from_config(layer.get_config()))
        weights.append(w)
    folded = keras.Sequential([keras.Input(model.input_shape[1:]), *kept], name=f"{model.name}_folded")
    for layer, w in zip(folded.layers, weights):
        if w:
            layer.set_weights([v.astype(np.float32) for v in w])
    return folded


def _foldable_into(rest: list) -> bool:
    """Whether the next linear layer after a BN (past any Flatten) is a Dense or a 'valid' Conv2D."""
    for layer in rest:
        kind = type(layer).__name__
        if kind == "Flatten":
            continue
        return kind == "Dense" or (kind == "Conv2D" and layer.get_config()["padding"] == "valid")
    return False


def _bn_before(layers: list, i: int):
    """The BatchNormalization folded into layers[i], if any: the one just before it, past a Flatten."""
    j = i - 1
    while j >= 0 and type(layers[j]).__name__ == "Flatten":
        j -= 1
    if j >= 0 and type(layers[j]).__name__ == "BatchNormalization" and _foldable_into(layers[j + 1 :]):
        return layers[j]
    return None

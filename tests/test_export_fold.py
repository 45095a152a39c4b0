"""Folding BatchNorm before int8 conversion must not change what the float model computes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="export needs requirements-train.txt")

from export.fold import fold_batchnorm  # noqa: E402
from training.architectures import ARCHITECTURES, build  # noqa: E402


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_folded_model_computes_the_same_function(arch):
    model = build(arch, 62)
    rng = np.random.default_rng(0)
    for layer in model.layers:  # BN layers with real, non-trivial statistics
        if type(layer).__name__ == "BatchNormalization":
            g, b, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 2, g.shape), rng.normal(0, 1, b.shape),
                               rng.normal(0, 1, mean.shape), rng.uniform(0.5, 2, var.shape)])
    folded = fold_batchnorm(model)
    x = rng.uniform(0, 1, (32, 28, 28, 1)).astype(np.float32)
    assert np.abs(model.predict(x, verbose=0) - folded.predict(x, verbose=0)).max() < 1e-5
    kinds = [type(layer).__name__ for layer in folded.layers]
    assert "Dropout" not in kinds
    assert kinds.count("BatchNormalization") < [type(la).__name__ for la in model.layers].count(
        "BatchNormalization")

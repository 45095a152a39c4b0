"""Find a TFLite interpreter without importing TensorFlow.

Order: ``ai-edge-litert`` (the maintained LiteRT wheel), then ``tflite-runtime``
(only under NumPy 1: its last release, 2.14, crashes under NumPy 2), then
``tf.lite`` as a last resort for machines that only have TensorFlow.
"""

from __future__ import annotations

import numpy as np


def interpreter_class() -> tuple[type, str]:
    """Return (Interpreter class, name of the package it came from)."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        pass
    if int(np.__version__.split(".")[0]) < 2:
        try:
            from tflite_runtime.interpreter import Interpreter

            return Interpreter, "tflite-runtime"
        except ImportError:
            pass
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError(
            "No TFLite interpreter found: pip install ai-edge-litert (see requirements.txt)"
        ) from e
    return tf.lite.Interpreter, "tensorflow"

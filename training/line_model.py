"""The line model: a fully convolutional CNN over a line image, one CTC step per 4 pixels across.

It is keras-io's handwriting recogniser (a CNN, CTC, greedy decoding) without its LSTM: a stack of
convolutions shrinks the 32-pixel height to one row, and a few wide 1-D convolutions along the line
give each step the context of its neighbours (about 60 pixels, two or three characters). With no
recurrent layer and no reshape it exports to int8 TFLite with a free width, and serving resizes the
input to each line.
"""

from __future__ import annotations

import keras
from keras import layers

from recognizer.preprocess.text_line import LINE_HEIGHT

STEP = 4
"""Line pixels per CTC step: a character 12 px wide gets three steps."""


def _conv(x, filters: int, kernel, name: str):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def line_cnn(classes: int, width: int = 48) -> keras.Model:
    """The network, ``classes`` outputs per step (the alphabet and CTC's blank, last).

    ``width`` sets the channels (w, 2w, 3w, 4w); at 48 it has about 0.9M parameters.
    Output: (batch, 1, steps, classes) logits, steps = ceil(input width / STEP).
    """
    w = width
    inputs = keras.Input((LINE_HEIGHT, None, 1), name="line")
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = _conv(x, w, 3, "c1")
    x = layers.MaxPooling2D((2, 2), padding="same")(x)  # 16 rows
    x = _conv(x, 2 * w, 3, "c2")
    x = layers.MaxPooling2D((2, 2), padding="same")(x)  # 8 rows, a step every 4 px
    x = _conv(x, 3 * w, 3, "c3")
    x = _conv(x, 3 * w, 3, "c4")
    x = layers.MaxPooling2D((2, 1), padding="same")(x)  # 4 rows
    x = _conv(x, 4 * w, 3, "c5")
    x = _conv(x, 4 * w, 3, "c6")
    x = layers.MaxPooling2D((2, 1), padding="same")(x)  # 2 rows
    x = layers.Conv2D(4 * w, (2, 1), use_bias=False, name="rows")(x)  # 1 row
    x = layers.BatchNormalization(name="rows_bn")(x)
    x = layers.ReLU(name="rows_relu")(x)
    for k in range(2):  # context along the line
        y = _conv(x, 4 * w, (1, 5), f"t{k}")
        x = layers.Add(name=f"t{k}_add")([x, y])
    x = layers.Dropout(0.2)(x)
    outputs = layers.Conv2D(classes, 1, name="logits", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"line_cnn_{w}")

"""Handwriting recognizer: int8 TFLite CNNs behind one small, thread-safe API.

    from recognizer import Recognizer, NoInkError, InvalidImageError
    rec = Recognizer.load("digits")          # or "letters", "characters"
    p = rec.predict(image)                   # sketchpad dict, PIL image, array, path or bytes
    p.label, p.confidence, p.top_k, p.model_input

    from recognizer import TextReader          # a whole number, word or line
    r = TextReader.load("digits").read(image)  # r.text, r.confidence, r.characters

Nothing here imports TensorFlow or Gradio.
"""

from recognizer.errors import InvalidImageError, NoInkError
from recognizer.model import MODEL_NAMES, Prediction, Recognizer
from recognizer.text_reader import ReadCharacter, TextReader, TextReading

__all__ = [
    "Recognizer", "Prediction", "TextReader", "TextReading", "ReadCharacter", "NoInkError",
    "InvalidImageError", "MODEL_NAMES",
]

"""Keras -> int8 TFLite export, with an accuracy-parity gate. Run as ``python -m export <task>``."""

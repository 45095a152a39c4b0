"""Speed, memory and accuracy figures, measured side by side in one run, for benchmarks/results.md
(the README's Benchmarks section sums up a few of them).

    python -m benchmarks [--quick]      # see benchmarks/__main__.py

Modules: inputs (the inputs every figure uses), timing (serving latency and
throughput, no TensorFlow), footprint and keras_baseline (measured in processes
of their own), accuracy (model sizes and accuracy), load_test (the app under
load), report (the Markdown table), process (running those processes).
This file imports nothing, so that the footprint process starts clean.
"""

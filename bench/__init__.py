"""Benchmarks: run each as `python -m bench.<name>`; the figures are kept in BENCHMARKS.md."""

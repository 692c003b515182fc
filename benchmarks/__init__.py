"""Benchmarks: one script per performance figure; each prints ratios against a same-run baseline and
ends with ``RESULT <name> <value>``."""

"""Benchmarks of the platform: `make bench` (see benchmarks/run.py and benchmarks/common.py)."""

"""Benchmarks run by `make bench` (benchmarks/run.py): crawl cost and, when available, scoring throughput."""

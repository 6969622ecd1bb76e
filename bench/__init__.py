"""Benchmarks run by `make bench` (bench/run.py): crawl cost and, when available, scoring throughput."""

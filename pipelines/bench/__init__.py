"""Benchmarks run by `make bench` (pipelines/bench/run.py): crawl cost and, when available, scoring throughput."""

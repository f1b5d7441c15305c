"""trace-request benchmarks: ``python benchmarks/run.py`` (see docs/performance.md)."""

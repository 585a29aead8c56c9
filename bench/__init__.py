"""Benchmarks and the scale data generator (not part of the test run)."""

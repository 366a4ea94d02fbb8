"""Benchmarks (not tests): each script prints its figures and, last, one JSON line."""

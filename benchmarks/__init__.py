"""Benchmarks of the cart service; each writes its figures into benchmarks/RESULTS.md."""

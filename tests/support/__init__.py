"""Code that both the tests and the benchmarks use: the one part of tests/ that bench/ may import.

bench/ and the rest of tests/ never import each other (tests/unit/test_bench_tests_separation.py
holds that rule); what both need lives here.
"""

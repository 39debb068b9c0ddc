"""The benchmark driver behind bench/run_bench.py."""

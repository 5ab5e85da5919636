"""Benchmarks run by `commons bench …`: each prints ratios against a baseline measured in the
same run, on the same inputs."""

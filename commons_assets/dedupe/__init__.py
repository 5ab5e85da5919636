"""Dedupe stage: exact and near-duplicate detection across partitions and sources."""

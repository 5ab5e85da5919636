"""The dedupe stage's Dagster definitions."""

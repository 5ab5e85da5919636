"""The sources stage's Dagster definitions."""

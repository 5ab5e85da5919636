"""The clean stage's Dagster definitions."""

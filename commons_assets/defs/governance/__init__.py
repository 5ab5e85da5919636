"""The governance stage's Dagster definitions."""

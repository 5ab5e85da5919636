"""The publish stage's Dagster definitions."""

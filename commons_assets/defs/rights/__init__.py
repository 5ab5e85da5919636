"""The rights stage's Dagster definitions."""

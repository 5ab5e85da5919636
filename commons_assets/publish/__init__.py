"""Publish stage: versioned, immutable releases with card, attribution, manifest and changes."""

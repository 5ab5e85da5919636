"""Governance: takedowns and deletions reaching every derived release."""

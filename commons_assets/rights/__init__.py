"""Rights stage: licences and consent signals, per record, with evidence and blocking checks
(specification: ../shared/specs/CONSENT_AND_LICENCES.md, section (a))."""

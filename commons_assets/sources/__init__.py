"""Source stage: one partitioned asset per source kind, parsing raw files into records."""

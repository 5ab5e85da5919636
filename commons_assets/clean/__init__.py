"""Clean stage: raw records to training-ready text and image-text rows, with reasons."""

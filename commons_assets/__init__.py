"""Commons: governed, versioned AI training datasets from openly licensed collections."""

__version__ = "0.1.0"

"""The package version, written into every manifest."""

__version__ = "0.1.0"

PACKAGE = "start-sim"
"""The ``package`` of every manifest: what marks a folder as one start-sim wrote (and may replace)."""

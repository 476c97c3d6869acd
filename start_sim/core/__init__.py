"""Core: errors, time constants, statistics and dotted paths, used by every layer above."""

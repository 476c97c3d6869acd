"""Experiments: replication records, the executor, work folders, grids, results, precision, comparisons."""

"""Analyses on top of experiments: staffing, calibration, uncertainty, benefit-cost."""

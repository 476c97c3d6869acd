"""Inputs: distributions, the scenario schema, scenario files with ``extends``, and messages for bad input."""

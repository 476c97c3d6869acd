"""Outcomes after the event run: children's placements, re-reports, per-family outcomes, costs and the budget."""

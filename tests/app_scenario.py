"""The one small scenario the app's tests (harness and browser) run: one county, one year."""

TINY = """name = "Tiny"
horizon_years = 1
runout_years = 1

[[counties]]
name = "Tiny County"
referrals_per_year = 24
dyads = 2
"""

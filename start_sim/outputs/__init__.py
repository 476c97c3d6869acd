"""Outputs: number formatting, figures, HTML reports and the writers of results folders."""

"""Metrics: the registry of KPIs (registry), a replication's KPIs (kpis), its monthly series and family rows (series)."""

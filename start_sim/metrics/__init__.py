"""KPIs: the registry of metrics, a replication's KPIs, monthly series and family rows."""

"""The simulation: named random streams, families, staff, treatment places, recovery, the county model and one replication."""

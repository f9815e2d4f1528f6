"""Upper platforms (tickets pushed in, results reported back through an outbox) and exports."""

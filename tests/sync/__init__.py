"""Sync in process: merge rules, the hub, identities, skewed clocks, convergence."""

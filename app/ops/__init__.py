"""Running on a shop laptop as a desktop application: where its files live, backups, upgrades,
health checks, logs and the per-user service. Below the web layer (the UI shows health and
backups) and above sync (health reads the sync state); no Flask here.
"""

"""The desktop application's operations: files, backups, upgrades, health, logs, the service.

Below the web layer (the UI shows health and backups) and above sync (health reads the sync
state); no Flask here.
"""

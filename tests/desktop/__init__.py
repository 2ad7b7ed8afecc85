"""The desktop application: backups, restore, upgrades, service files, doctor, the wheel."""

"""Business rules. Nothing here imports Flask: services take a Database and validated models."""

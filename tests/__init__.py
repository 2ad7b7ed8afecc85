"""Every suite `make test` runs, one folder per kind, with the shared fixtures in conftest.py."""

"""The API through Flask's test client, one file per route module; every error path's code."""

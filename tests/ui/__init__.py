"""The browser pages through Flask's test client: forms, sessions, access, error pages."""

"""The API: one thin blueprint per resource; a route parses, calls one service, and answers."""

"""One blueprint per resource; each route parses, calls one domain service, and returns."""

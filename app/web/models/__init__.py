"""Request models, one module per area: they validate every body and query, and they are what
/openapi.json publishes (app/web/openapi.py), so the documentation cannot drift from the rules.

base.py holds what every model shares; parsing.py reads a request into a model.
"""

"""Request models, one module per area: they validate requests and generate /openapi.json.

They are what app/web/openapi.py publishes, so the documentation cannot drift from the rules.

base.py holds what every model shares; parsing.py reads a request into a model.
"""

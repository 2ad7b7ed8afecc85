"""schemathesis over /openapi.json, and hostile input sent to every route and form."""

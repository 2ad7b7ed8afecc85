"""The web side of each domain service: a validated request model in, the API's JSON out.

Each function turns the model into the plain arguments the domain takes, decodes and signs the
list cursors (app/pagination.py), and shapes the domain's rows with app/presenters.py. The API's
routes and the UI's pages both call these, so a page accepts nothing the API refuses.
"""

"""The web layer: the Flask app, the API's routes and models, the hub's routes, the pages."""

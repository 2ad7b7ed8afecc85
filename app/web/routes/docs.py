"""/docs: the interactive API reference (Swagger UI) over /openapi.json, served offline.

Swagger UI's files ship inside the flask-swagger-ui package (with their Apache-2.0 license in
its dist/ folder), so the reference works on a shop laptop with no network and loads nothing
from a CDN.
"""

from flask_swagger_ui import get_swaggerui_blueprint

bp = get_swaggerui_blueprint(
    "/docs",
    "/openapi.json",
    config={
        "app_name": "Booking service API reference",
        "persistAuthorization": False,
        "tryItOutEnabled": False,
        "displayOperationId": True,
    },
    blueprint_name="docs",
)

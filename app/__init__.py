"""The booking service: the layers in its folders, composed by cli.py, settings.py and demo.py.

`app.create_app` (app/web/factory.py) builds the web app. It is loaded on first use, so that
importing the domain, storage or sync code does not import Flask (PEP 562 module __getattr__).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from app.web.factory import create_app

        return create_app
    raise AttributeError(f"module 'app' has no attribute {name!r}")

"""The modeldeck server: REST API, health, metrics, and the routes plugins mount."""

from modeldeck.server.app import create_app

__all__ = ["create_app"]

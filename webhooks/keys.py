"""Typed application state."""

from aiohttp import web

from socialsync.config import Settings
from socialsync.context import Services

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
TENANT_ID = web.RequestKey("tenant_id", str)  # set by the auth middleware

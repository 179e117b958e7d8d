"""The aiohttp receiver: OAuth callbacks, Meta webhooks, the CRM's REST API, ops pages."""

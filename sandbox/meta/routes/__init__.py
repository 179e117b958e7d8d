"""Meta's HTTP routes, one module per emulated surface (mounted by ``sandbox/meta/__init__.py``)."""

"""Tenant administration shared by the CLI and the admin API."""

from socialsync.store.tenants import NewTenant, create_tenant

__all__ = ["NewTenant", "create_tenant"]

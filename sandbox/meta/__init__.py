"""Meta's hosts in the sandbox: Instagram Login and Facebook Login (dialogs, token exchange),
both Graph hosts (users, pages, media, insights, comments, publishing, webhook subscriptions),
the CDN, and the Meta webhook sender (control API).

``HOSTS`` and ``mount`` are the platform-package contract (``sandbox/app.py``).
"""

from __future__ import annotations

from aiohttp import web

from sandbox.context import HostPolicy, Sandbox
from sandbox.meta.errors import errors_middleware, fault_response
from sandbox.meta.hosts import GRAPH_HOSTS, HOSTS
from sandbox.meta.routes import (
    batch,
    cdn,
    comments,
    control,
    facebook_oauth,
    graph,
    instagram_oauth,
    media_control,
    media_reads,
    nodes,
    publishing,
    subscriptions,
    webhook_sender,
)
from sandbox.meta.usage import usage_middleware
from sandbox.meta.world import PLATFORM, Meta, meta_of
from sandbox.mounting import mount_hosts

__all__ = ["HOSTS", "mount"]

# Registration order matters where patterns overlap: containers (a narrower id pattern) before
# nodes' ``/{id}``; ``/{id}/media`` GET (reads) and POST (publishing) are separate resources.
ROUTE_TABLES = (
    control.routes, publishing.routes, instagram_oauth.routes, facebook_oauth.routes,
    comments.routes, subscriptions.routes, webhook_sender.routes, media_reads.routes,
    batch.routes, media_control.routes, graph.routes, nodes.routes,
    cdn.routes,
)


def mount(root: web.Application, sandbox: Sandbox) -> None:
    sandbox.register(PLATFORM, Meta)
    sandbox.index_sections.append(control.index_section)
    usage = usage_middleware(lambda request: meta_of(request).usage)
    for host in HOSTS:
        sandbox.set_host_policy(
            host,
            HostPolicy(usage=usage if host in GRAPH_HOSTS else None, fault_response=fault_response),
        )
    mount_hosts(root, HOSTS, ROUTE_TABLES, middlewares=[errors_middleware])

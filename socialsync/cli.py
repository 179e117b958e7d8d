"""The `socialsync` command: thin wrappers that build Settings and call the real entry points.

    socialsync up [--workers N --webs N]   the whole service on one machine (socialsync.supervisor)
    socialsync web | worker       one production process (what the Docker image runs)
    socialsync sandbox            the platform emulator
    socialsync tenant create NAME a tenant and its API key
    socialsync keys generate      a new token-encryption key
    socialsync keys rotate        re-encrypt stored tokens under the newest key

Entry points are imported inside each command, so `socialsync keys generate` does not pay for
aiohttp or arq, and a broken module only breaks the commands that use it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from socialsync.config import Settings, get_settings

app = typer.Typer(
    name="socialsync",
    help="Connect creators' social accounts to a CRM.",
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks with local variables could print secrets: keep Python's plain ones.
    pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(
    help="Tenants (one per CRM customer) and their API keys.", no_args_is_help=True
)
keys_app = typer.Typer(help="Token-encryption keys.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(keys_app, name="keys")


@app.callback()
def main(ctx: typer.Context) -> None:
    """Configure logging once, for every command."""
    from socialsync.logs import configure_logging  # noqa: PLC0415

    settings = get_settings()
    if ctx.invoked_subcommand == "up" and "log_json" not in settings.model_fields_set:
        # `up` is for a person at a terminal: readable logs, for it and for its children,
        # unless SOCIALSYNC_LOG_JSON says otherwise.
        os.environ["SOCIALSYNC_LOG_JSON"] = "false"
        settings = get_settings()
    configure_logging(settings)


@app.command()
def up(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Where local servers and generated secrets live.",
                     show_default=".data"),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    webs: Annotated[int, typer.Option("--webs", min=1, help="Web processes (sharing one port).")] = 1,
) -> None:
    """Run the whole service on this machine; Ctrl-C stops it.

    Starts Redis and MongoDB (unless SOCIALSYNC_REDIS_URL / SOCIALSYNC_MONGODB_URL are set), the
    sandbox (when a platform has no app credentials), the web receiver and the worker.
    """
    from socialsync.supervisor import Supervisor  # noqa: PLC0415

    overrides: dict[str, object] = {"data_dir": data_dir} if data_dir is not None else {}
    raise typer.Exit(Supervisor(get_settings(**overrides), workers=workers, webs=webs).run())


@app.command()
def web() -> None:
    """Serve the web receiver (OAuth, webhooks, CRM API) on SOCIALSYNC_WEB_HOST:WEB_PORT."""
    from webhooks.main import run  # noqa: PLC0415

    run(get_settings())


@app.command()
def worker() -> None:
    """Run the job worker (syncs, publishing, webhook processing, cron)."""
    from worker.main import run  # noqa: PLC0415

    run(get_settings())


@app.command()
def sandbox(
    host: Annotated[str | None, typer.Option(help="Default: SOCIALSYNC_SANDBOX_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: SOCIALSYNC_SANDBOX_PORT.")] = None,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Answer every platform call this much later.")] = 0.0,
) -> None:
    """Serve the platform emulator (fake Instagram/Facebook APIs and OAuth pages)."""
    from sandbox.main import run  # noqa: PLC0415

    settings = get_settings()
    run(host or settings.sandbox_host, port or settings.sandbox_port, latency_seconds=latency_ms / 1000)


@tenant_app.command("create")
def tenant_create(name: Annotated[str, typer.Argument(help="The tenant's display name.")]) -> None:
    """Create a tenant and print its id and API key (the only time the key is shown)."""
    if not name.strip():
        raise typer.BadParameter("must not be empty", param_hint="NAME")
    tenant = asyncio.run(_create_tenant(get_settings(), name.strip()))
    typer.echo(f"tenant id: {tenant.id}")
    typer.echo(f"API key:   {tenant.api_key}")
    typer.echo("The key is shown only now: store it in the CRM's secrets.", err=True)


async def _create_tenant(settings: Settings, name: str):  # noqa: ANN202 - NewTenant, lazily
    from socialsync.store import open_store  # noqa: PLC0415
    from socialsync.tenants import create_tenant  # noqa: PLC0415

    store = await open_store(settings)
    try:
        return await create_tenant(store, name)
    finally:
        await store.close()


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new token-encryption key (for SOCIALSYNC_TOKEN_KEYS; put new keys first)."""
    from socialsync.crypto import generate_key  # noqa: PLC0415

    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token under the first key of SOCIALSYNC_TOKEN_KEYS.

    After it reports 0 failures, older keys can be removed from SOCIALSYNC_TOKEN_KEYS."""
    done, failed = asyncio.run(_rotate(get_settings()))
    typer.echo(f"re-encrypted: {done}, failed: {failed}")
    if failed:
        raise typer.Exit(1)


async def _rotate(settings: Settings) -> tuple[int, int]:
    from socialsync.crypto import TokenCipher  # noqa: PLC0415
    from socialsync.store import open_store  # noqa: PLC0415
    from socialsync.store.accounts import rotate_token_encryption  # noqa: PLC0415

    store = await open_store(settings)
    try:
        return await rotate_token_encryption(store, TokenCipher.from_settings(settings))
    finally:
        await store.close()


if __name__ == "__main__":
    app(prog_name="socialsync")

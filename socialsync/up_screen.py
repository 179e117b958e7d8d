"""What `socialsync up` prints for the person at the terminal: the sandbox banner (which
platforms talk to the local emulator, and how to make each one real) and the start-up summary."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from socialsync.config import Settings

def credentials_hint(name: str) -> str:
    """How to make a platform real: the variables of its app credentials (its spec's)."""
    from socialsync.platforms.registry import plugin_class  # noqa: PLC0415

    return plugin_class(name).spec.credentials_hint


def redact_url(url: str) -> str:
    """A server URL fit for printing: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cli_command() -> str:
    """How the user should type `socialsync` in another shell."""
    beside = Path(sys.executable).parent / "socialsync"
    if beside.exists():
        return display_path(beside)
    return "socialsync"


def sandbox_banner(settings: Settings, *, tty: bool) -> str:
    """The loud notice that some platforms are emulated (``settings.sandboxed_platforms``)."""
    names = settings.sandboxed_platforms
    bar = "!" * 78
    lines = [
        f"SANDBOX MODE for {', '.join(names)}: no app credentials are configured for "
        + ("it." if len(names) == 1 else "them."),
        "Their calls go to the local platform EMULATOR at",
        f"    {settings.sandbox_base_url}",
        "Nothing reaches those real platforms; accounts and posts there are fake.",
        "To use a real platform, set (in the environment or .env):",
        *(f"  {name}: {hint}" for name in names if (hint := credentials_hint(name))),
    ]
    if settings.sandbox:
        lines.append("(SOCIALSYNC_SANDBOX=true forces this mode for every platform: unset it as well.)")
    bold, reset = ("\033[1;31m", "\033[0m") if tty else ("", "")
    text = "\n".join([bar, *(f"!!  {line}" for line in lines), bar])
    return f"{bold}{text}{reset}"


@dataclass
class Summary:
    """What ran: the resolved addresses and files of one `up`."""

    settings: Settings
    web: str
    public: str
    webs: int
    workers: int
    redis: str
    mongodb: str
    local: frozenset[str]  # which of redis / mongodb `up` started itself
    data_dir: Path
    created: list[Path]
    admin_token_file: str
    token_key_file: str

    def text(self) -> str:
        s, web = self.settings, self.web
        sandboxed = s.sandboxed_platforms
        mode = f"SANDBOX mode for {', '.join(sandboxed)}" if sandboxed else "live platform APIs"
        rows = [("web receiver", web if self.webs == 1 else f"{web}  ({self.webs} processes, one port)")]
        if self.workers > 1:
            rows.append(("workers", str(self.workers)))
        if self.public != web:
            rows.append(("public URL", self.public))
        rows += [("readiness", f"{web}/readyz"), ("API (OpenAPI)", f"{web}/v1/openapi.json"),
                 ("ops console", f"{web}/ops")]
        if sandboxed:
            rows.append(("sandbox", s.sandbox_base_url))
        for name, label, url in (("redis", "Redis", self.redis), ("mongodb", "MongoDB", self.mongodb)):
            note = "local, data in " + display_path(self.data_dir) if name in self.local else "external"
            rows.append((label, f"{redact_url(url)}  ({note})"))
        if s.admin_token is None:
            rows.append(("admin token", display_path(self.data_dir / self.admin_token_file)))
        if not s.token_keys:
            rows.append(("token key", display_path(self.data_dir / self.token_key_file)))
        width = max(len(label) for label, _ in rows)
        body = "\n".join(f"  {label.ljust(width)}  {value}" for label, value in rows)
        created = "".join(
            f"\n  (created {display_path(p)}: keep it, it unlocks the stored tokens)"
            if p.name == self.token_key_file else f"\n  (created {display_path(p)})"
            for p in self.created
        )
        from socialsync.platforms.registry import PLATFORMS  # noqa: PLC0415

        names = list(PLATFORMS)
        choices = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        return (
            f"\nsocialsync is up ({mode}):\n{body}{created}\n\n"
            "Quick start (in another shell):\n"
            f"  {cli_command()} tenant create my-crm   # prints the tenant's API key, once\n"
            f"  curl -s -X POST {web}/v1/connect -H \"Authorization: Bearer $API_KEY\" "
            "-H 'Content-Type: application/json' "
            f"-d '{{\"platform\": \"{names[0]}\", \"return_url\": \"http://localhost:3000/connected\"}}'\n"
            f"  (platform: {choices})\n"
            "\nPress Ctrl-C to stop.\n"
        )

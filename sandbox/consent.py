"""What every platform's login dialog shares: scope parsing, the consent page, redirects back.

The page is plain HTML forms so a person can click through connect on one machine; tests skip
it with ``sandbox_account`` + ``sandbox_decision`` (and ``sandbox_scopes``), which redirect at
once, exactly like the form submit does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web
from yarl import URL

SANDBOX_PARAMS = ("sandbox_account", "sandbox_decision", "sandbox_scopes")


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    """One account a person could log in as."""

    key: str
    label: str


def parse_scopes(raw: str) -> tuple[str, ...]:
    """Comma- or space-separated scope list, in order, without duplicates."""
    return tuple(dict.fromkeys(s for s in re.split(r"[,\s]+", raw) if s))


def granted_scopes(
    request: web.Request, requested: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(granted, declined): ``sandbox_scopes`` if given (even empty), else all requested."""
    if "sandbox_scopes" in request.query:
        chosen = set(parse_scopes(",".join(request.query.getall("sandbox_scopes"))))
        granted = tuple(s for s in requested if s in chosen)
    else:
        granted = tuple(requested)
    declined = tuple(s for s in requested if s not in granted)
    return granted, declined


def valid_redirect_uri(value: str) -> bool:
    try:
        url = URL(value)
    except ValueError:
        return False
    return url.scheme in ("http", "https") and bool(url.host) and not url.fragment


def redirect_back(
    redirect_uri: str, params: dict[str, str], *, fragment: str | None
) -> web.Response:
    """302 to the client's redirect URI with ``params`` added to its query."""
    url = URL(redirect_uri).update_query(params)
    location = str(url)
    if fragment is not None:
        location += "#" + fragment
    return web.Response(status=302, headers={"Location": location})


def error_page(title: str, message: str, status: int = 400) -> web.Response:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def consent_page(
    request: web.Request,
    *,
    platform: str,
    app_id: str,
    choices: Sequence[ConsentChoice],
    scopes: Sequence[str],
) -> web.Response:
    """The dialog: pick an account, untick scopes to decline them, Allow or Deny."""
    hidden = "".join(
        f"<input type='hidden' name='{html.escape(k)}' value='{html.escape(v)}'>"
        for k, v in request.query.items()
        if k not in SANDBOX_PARAMS
    )
    accounts = "".join(
        "<li><label><input type='radio' name='sandbox_account' required "
        f"value='{html.escape(c.key)}'{' checked' if i == 0 else ''}> {html.escape(c.label)}"
        "</label></li>"
        for i, c in enumerate(choices)
    )
    scope_boxes = "".join(
        "<li><label><input type='checkbox' name='sandbox_scopes' checked "
        f"value='{html.escape(s)}'> {html.escape(s)}</label></li>"
        for s in scopes
    )
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(platform)} (sandbox): log in</title></head>
<body>
<h1>{html.escape(platform)} sandbox</h1>
<p>App <code>{html.escape(app_id)}</code> asks to connect to your account.</p>
<form method="get" action="{html.escape(request.path)}">
{hidden}
<input type="hidden" name="sandbox_scopes" value="">
<h2>Log in as</h2><ul>{accounts or "<li>No accounts.</li>"}</ul>
<h2>Permissions (untick to decline)</h2><ul>{scope_boxes or "<li>None requested.</li>"}</ul>
<button type="submit" name="sandbox_decision" value="allow">Allow</button>
<button type="submit" name="sandbox_decision" value="deny" formnovalidate>Deny</button>
</form>
</body></html>"""
    return web.Response(text=body, content_type="text/html")

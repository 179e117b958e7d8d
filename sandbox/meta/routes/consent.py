"""What Meta's two login dialogs share beyond the generic consent helpers (sandbox/consent.py):
answering the dialog with a code issued on Meta's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from sandbox.consent import (  # noqa: F401 - re-exported for the dialogs
    ConsentChoice,
    consent_page,
    error_page,
    granted_scopes,
    parse_scopes,
    redirect_back,
    valid_redirect_uri,
)
from sandbox.meta.world import meta_of, note_account


@dataclass(frozen=True, slots=True)
class Subject:
    """Who logs in: the id codes and tokens hang on, and the login name."""

    subject_id: str
    username: str


def answer_consent(
    request: web.Request,
    *,
    flow: str,
    platform: str,
    client_id: str,
    choices: Callable[[], list[ConsentChoice]],
    find: Callable[[str], Subject | None],
    deny_params: Mapping[str, str],
    unknown_account: str,
) -> web.Response:
    """The part of both login dialogs after their request checks: show the consent page, or
    answer it (``sandbox_decision``) with a denial or a code redirect back to the app."""
    sandbox = meta_of(request)
    query = request.query
    redirect_uri = query.get("redirect_uri", "")
    requested = parse_scopes(query.get("scope", ""))
    state_params = {"state": query["state"]} if "state" in query else {}
    decision = query.get("sandbox_decision")
    if decision is None:
        return consent_page(
            request, platform=platform, app_id=client_id, choices=choices(), scopes=requested
        )
    if decision == "deny":
        return redirect_back(redirect_uri, {**deny_params, **state_params}, fragment=None)
    if decision != "allow":
        return error_page("Invalid Request", "sandbox_decision must be 'allow' or 'deny'.")
    subject = find(query.get("sandbox_account", ""))
    if subject is None:
        return error_page("Unknown account", unknown_account)
    granted, declined = granted_scopes(request, requested)
    code = sandbox.state.issue_code(
        flow=flow,  # type: ignore[arg-type]
        client_id=client_id,
        redirect_uri=redirect_uri,
        subject_id=subject.subject_id,
        login_username=subject.username,
        scopes=granted,
        declined=declined,
    )
    note_account(request, subject.subject_id)
    return redirect_back(redirect_uri, {"code": code.value, **state_params}, fragment="_")

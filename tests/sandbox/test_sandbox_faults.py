"""Fault injection: errors, 5xx, timeouts and lost answers for the next N matching calls."""

from __future__ import annotations

import time

import httpx
import pytest
from sandbox_driver import Driver, graph_error

ME_GLOB = "/graph.instagram.com/*me"


async def test_injected_error_for_count_calls_then_exhausted(
    sb: Driver, http: httpx.AsyncClient
) -> None:
    token = await sb.ig_long_token()
    fault_id = await sb.fault(
        path=ME_GLOB,
        count=2,
        error={
            "code": 190,
            "error_subcode": 467,
            "message": "Invalid session",
            "type": "OAuthException",
        },
    )
    for _ in range(2):
        response = await sb.ig_me(token)
        error = graph_error(response)
        assert response.status_code == 400
        assert (error["code"], error["error_subcode"], error["message"]) == (
            190,
            467,
            "Invalid session",
        )
        assert response.headers["x-sandbox-fault"] == fault_id
    assert (await sb.ig_me(token)).status_code == 200
    assert (await http.get("/_sandbox/faults")).json() == {"faults": []}


async def test_status_only_fault_is_a_transient_server_error(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.fault(path=ME_GLOB, status=503)
    response = await sb.ig_me(token)
    assert response.status_code == 503
    error = graph_error(response)
    assert error["code"] == 2 and error["is_transient"] is True


async def test_injected_error_with_custom_status(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.fault(
        path=ME_GLOB,
        status=500,
        error={"code": 1, "message": "An unknown error occurred", "is_transient": True},
    )
    response = await sb.ig_me(token)
    assert response.status_code == 500
    assert graph_error(response)["code"] == 1


async def test_delay_makes_a_short_timeout_client_time_out(sb: Driver, sandbox_url: str) -> None:
    token = await sb.ig_long_token()
    await sb.fault(path=ME_GLOB, delay_seconds=0.4)
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.get("/graph.instagram.com/v24.0/me", params={"access_token": token})
    assert (await sb.ig_me(token)).status_code == 200  # one use only


async def test_delay_only_fault_still_answers_for_real(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.fault(path=ME_GLOB, delay_seconds=0.2)
    started = time.monotonic()
    response = await sb.ig_me(token, "username")
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200 and response.json()["username"] == "sandbox_creator"


async def test_phase_after_does_the_work_and_loses_the_answer(sb: Driver) -> None:
    code = await sb.ig_code()
    await sb.fault(
        method="POST", path="/api.instagram.com/oauth/access_token", status=502, phase="after"
    )
    lost = await sb.ig_exchange(code)
    assert lost.status_code == 502
    # The code was consumed by the call whose answer was lost.
    retry = await sb.ig_exchange(code)
    assert retry.status_code == 400 and "used" in retry.json()["error_message"]


async def test_phase_before_does_not_do_the_work(sb: Driver) -> None:
    code = await sb.ig_code()
    await sb.fault(method="POST", path="/api.instagram.com/oauth/access_token", status=502)
    assert (await sb.ig_exchange(code)).status_code == 502
    assert (await sb.ig_exchange(code)).status_code == 200


async def test_fault_matches_method_and_glob_only(sb: Driver, http: httpx.AsyncClient) -> None:
    token = await sb.ig_long_token()
    await sb.fault(method="POST", path=ME_GLOB, status=500)
    assert (await sb.ig_me(token)).status_code == 200  # GET does not match
    await http.delete("/_sandbox/faults")
    await sb.fault(method="GET", path="/graph.facebook.com/*", status=500)
    assert (await sb.ig_me(token)).status_code == 200  # other host
    unversioned = await http.get("/graph.instagram.com/me", params={"access_token": token})
    assert unversioned.status_code == 200
    await sb.fault(method="*", path=ME_GLOB, status=500)
    assert (
        await http.get("/graph.instagram.com/me", params={"access_token": token})
    ).status_code == 500


async def test_faults_list_and_delete(sb: Driver, http: httpx.AsyncClient) -> None:
    first = await sb.fault(path="/a/*", status=500, count=3)
    second = await sb.fault(path="/b/*", delay_seconds=1)
    listed = (await http.get("/_sandbox/faults")).json()["faults"]
    assert [(f["id"], f["remaining"]) for f in listed] == [(first, 3), (second, 1)]
    assert (await http.delete(f"/_sandbox/faults/{first}")).status_code == 200
    assert [f["id"] for f in (await http.get("/_sandbox/faults")).json()["faults"]] == [second]
    assert (await http.delete("/_sandbox/faults")).status_code == 200
    assert (await http.get("/_sandbox/faults")).json()["faults"] == []


async def test_control_api_is_never_faulted(sb: Driver, http: httpx.AsyncClient) -> None:
    await sb.fault(path="*", status=500, count=5)
    assert (await http.get("/_sandbox/stats")).status_code == 200
    assert (await http.get("/_sandbox/faults")).json()["faults"][0]["remaining"] == 5


async def test_fault_without_effect_is_rejected(http: httpx.AsyncClient) -> None:
    response = await http.post("/_sandbox/faults", json={"path": "/x"})
    assert response.status_code == 400
    assert "error" in response.json()
    bad_phase = await http.post(
        "/_sandbox/faults", json={"path": "/x", "status": 500, "phase": "during"}
    )
    assert bad_phase.status_code == 400


async def test_faulted_graph_answers_still_carry_app_usage(sb: Driver) -> None:
    token = await sb.ig_long_token()
    await sb.fault(
        path=ME_GLOB,
        error={
            "code": 4,
            "message": "(#4) Application request limit reached",
            "is_transient": True,
        },
    )
    response = await sb.ig_me(token)
    assert graph_error(response)["code"] == 4
    assert "call_count" in response.headers["x-app-usage"]
    await sb.fault(path=ME_GLOB, status=500, phase="after")
    lost = await sb.ig_me(token)
    assert lost.status_code == 500
    assert "17841400000000101" in lost.headers["x-business-use-case-usage"]

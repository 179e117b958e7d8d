"""Fault injection: make the next N matching calls fail, stall, or lose their answer.

A rule matches on method and on the request path (without query) by ``fnmatch`` glob. Phase
``before`` fails the call instead of handling it; phase ``after`` handles it for real and then
loses the answer (delay and/or error) - the "Meta did publish, but the response never arrived"
case that idempotent clients must survive. Control calls (``/_sandbox/…``) are never faulted.

Shared by every platform: the rule is platform-neutral, and the answer is rendered by the
platform that owns the path (``HostPolicy.fault_response``, e.g. Meta's ``{"error": {code,
error_subcode, ...}}``); ``error`` takes the platform's own fields beside ``code``
and ``message``. Paths no platform renders get ``default_fault_response``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.hosts import is_control

# Which fault (if any) shaped the answer; read by the stats recorder.
FAULT_ID = web.RequestKey("sandbox_fault_id", str)


class InjectedError(BaseModel):
    """The error object to answer with: ``code`` and ``message``, plus any fields of the
    platform's own error shape (Meta: ``error_subcode``, ``type``, ``is_transient``, ...;
    TikTok: ``log_id``; Google: ``status``, ``errors``), which its renderer interprets."""

    model_config = ConfigDict(extra="allow")

    code: int | str
    message: str = "Sandbox injected fault"

    def extras(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FaultSpec(BaseModel):
    """Body of ``POST /_sandbox/faults``."""

    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = Field(min_length=1, description="fnmatch glob on the path, without query")
    count: int = Field(default=1, ge=1)
    error: InjectedError | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    delay_seconds: float = Field(default=0.0, ge=0.0, le=300.0)
    phase: Literal["before", "after"] = "before"

    @model_validator(mode="after")
    def _does_something(self) -> FaultSpec:
        if self.error is None and self.status is None and self.delay_seconds == 0:
            raise ValueError("a fault needs an error, a status or a delay_seconds")
        return self

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the answer (otherwise it only delays)."""
        return self.error is not None or self.status is not None


@dataclass(slots=True)
class Fault:
    id: str
    spec: FaultSpec
    remaining: int
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        wanted = self.spec.method.upper()
        return (wanted == "*" or wanted == method.upper()) and fnmatchcase(path, self.spec.path)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "remaining": self.remaining,
            "hits": self.hits,
            **self.spec.model_dump(),
        }


class FaultBook:
    """Active fault rules, first added first matched."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._faults: list[Fault] = []

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(id=f"fault-{next(self._ids)}", spec=spec, remaining=spec.count)
        self._faults.append(fault)
        return fault

    def list(self) -> list[Fault]:
        return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def reset(self) -> None:
        self._faults.clear()
        self._ids = itertools.count(1)

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching this call, spending one of its uses."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                fault.hits += 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None


FaultRenderer = Callable[[FaultSpec], web.Response]


def default_fault_response(spec: FaultSpec) -> web.Response:
    """``{"error": {"code", "message", ...}}`` with the rule's status (400 for an error, else
    the status with a generic message)."""
    if spec.error is None:
        body: dict[str, Any] = {"code": spec.status, "message": "Sandbox injected fault"}
    else:
        body = {**spec.error.extras(), "code": spec.error.code, "message": spec.error.message}
    return web.json_response({"error": body}, status=spec.status or 400)


def faults_middleware(
    book: FaultBook, renderer_for: Callable[[str], FaultRenderer | None]
) -> Middleware:
    """Apply the first matching fault rule to each non-control call; the answer is rendered by
    ``renderer_for(path)`` (the owning platform's renderer) or the default."""

    def _fault_response(fault: Fault, path: str) -> web.Response:
        render = renderer_for(path) or default_fault_response
        response = render(fault.spec)
        response.headers["X-Sandbox-Fault"] = fault.id
        return response

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control(request.path):
            return await handler(request)
        fault = book.take(request.method, request.path)
        if fault is None:
            return await handler(request)
        request[FAULT_ID] = fault.id
        spec = fault.spec
        if spec.phase == "before":
            if spec.delay_seconds:
                await asyncio.sleep(spec.delay_seconds)
            if spec.answers:
                return _fault_response(fault, request.path)
            return await handler(request)
        # phase "after": the platform did the work; the answer is late or lost.
        response = await handler(request)
        if spec.delay_seconds:
            await asyncio.sleep(spec.delay_seconds)
        return _fault_response(fault, request.path) if spec.answers else response

    return middleware

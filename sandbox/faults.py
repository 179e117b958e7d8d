"""Fault injection: make the next N matching calls fail, stall, or lose their answer.

A rule matches on method and on the request path (without query) by ``fnmatch`` glob. Phase
``before`` fails the call instead of handling it; phase ``after`` handles it for real and then
loses the answer (delay and/or error) - the "Meta did publish, but the response never arrived"
case that idempotent clients must survive. Control calls (``/_sandbox/…``) are never faulted.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.errors import GraphError, transient_server_error
from sandbox.hosts import is_control

# Which fault (if any) shaped the answer; read by the stats recorder.
FAULT_ID = web.RequestKey("sandbox_fault_id", str)


class InjectedError(BaseModel):
    """A Graph error object to answer with."""

    model_config = ConfigDict(extra="forbid")

    code: int
    error_subcode: int | None = None
    message: str = "Sandbox injected fault"
    type: str = "OAuthException"
    is_transient: bool | None = None
    error_user_title: str | None = None
    error_user_msg: str | None = None


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

    def graph_error(self) -> GraphError:
        if self.error is None:
            return transient_server_error(self.status or 500)
        e = self.error
        return GraphError(
            e.code,
            e.message,
            subcode=e.error_subcode,
            type=e.type,
            is_transient=e.is_transient,
            status=self.status or 400,
            error_user_title=e.error_user_title,
            error_user_msg=e.error_user_msg,
        )


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


def faults_middleware(book: FaultBook) -> Middleware:
    """Apply the first matching fault rule to each non-control call."""

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
                return _fault_response(fault)
            return await handler(request)
        # phase "after": the platform did the work; the answer is late or lost.
        response = await handler(request)
        if spec.delay_seconds:
            await asyncio.sleep(spec.delay_seconds)
        return _fault_response(fault) if spec.answers else response

    return middleware


def _fault_response(fault: Fault) -> web.Response:
    response = fault.spec.graph_error().response()
    response.headers["X-Sandbox-Fault"] = fault.id
    return response

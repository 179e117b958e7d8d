"""The one parser for what a request carries outside its body: query, path and header values.

Each route declares a pydantic model per place (``PageQuery``, ``AccountPath``…) and calls
``parse_query``/``parse_path``/``parse_headers``; ``webhooks.openapi.parameters`` describes the
same models in ``/v1/openapi.json``, so what the spec promises is what the code checks.

An invalid value gets ``400`` with a code of its own: ``invalid_<name>`` (``missing_<name>``
when a required one is absent), or the field's ``x-error-code``. The field types below are the
shared rules: ASCII digits only (``int("٣")`` and ``int("9"*5000)`` are the traps), booleans
from a fixed set, date-times that stay inside the representable range once in UTC, ids of a
fixed alphabet and length.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from aiohttp import web
from multidict import MultiMapping
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from webhooks.errors import ApiError

M = TypeVar("M", bound=BaseModel)

_ASCII_INT = re.compile(r"[0-9]{1,19}")  # int64 has 19 digits; each field bounds the value
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,200}$"
_ID = re.compile(ID_PATTERN)
TRUE, FALSE = ("true", "1"), ("false", "0")


def _ascii_int(value: Any) -> Any:
    if isinstance(value, str):
        if not _ASCII_INT.fullmatch(value):
            raise ValueError("must be a non-negative integer written with ASCII digits")
        return int(value)
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        low = value.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValueError("must be true or false")
    return value


def parse_datetime(value: str) -> datetime:
    """ISO 8601 / RFC 3339 date-time (or date), ASCII only. Naive means UTC. The result is in
    UTC and must exist there (year 1 with a positive offset, or 9999 with a negative one, does
    not): ``ValueError`` otherwise."""
    if not value.isascii():
        raise ValueError("must be an ISO 8601 date-time")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the supported range once converted to UTC") from None


def _datetime(value: Any) -> Any:
    return parse_datetime(value) if isinstance(value, str) else value


AsciiInt = BeforeValidator(_ascii_int)  # for integer parameters with their own bounds
Limit = Annotated[int, Field(ge=1, le=200, description="Page size (default 50)."), BeforeValidator(_ascii_int)]
Flag = Annotated[bool, BeforeValidator(_flag)]
DateTime = Annotated[datetime, BeforeValidator(_datetime)]
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=200)]
Cursor = Annotated[str, Field(max_length=1024, pattern=r"^[A-Za-z0-9_\-.]*$",
                              description="`next_cursor` of the previous page (empty: the first page).")]


class QueryModel(BaseModel):
    """Base of query models: unknown parameters are ignored, declared ones are strict."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PathModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class PageQuery(QueryModel):
    limit: Limit = 50
    cursor: Cursor | None = None


def error_code(model: type[BaseModel], loc: tuple[Any, ...], kind: str) -> str:
    name = str(loc[0]) if loc else "input"
    info = _field(model, name)
    if info is not None:
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if "x-error-code" in extra:
            return str(extra["x-error-code"])
        name = info.alias or name
    name = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "input"
    return f"missing_{name}" if kind == "missing" else f"invalid_{name}"


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    if name in model.model_fields:
        return model.model_fields[name]
    for info in model.model_fields.values():
        if info.alias == name:
            return info
    return None


def _validate(model: type[M], values: dict[str, Any], where: str, status: int = 400) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        code = error_code(model, first["loc"], first["type"])
        name = ".".join(str(p) for p in first["loc"]) or where
        raise ApiError(
            status, code, f"Invalid {where} parameter {name}: {first['msg']}",
            problems=[{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in errors],
        ) from None


def _single_values(source: MultiMapping[str], model: type[BaseModel], where: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        got = source.getall(key, [])
        if len(got) > 1:
            raise ApiError(400, error_code(model, (name,), "repeated"), f"{where} parameter {key} is given more than once.")
        if got:  # an empty value is a value: `limit=` is invalid, `cursor=` is the first page
            values[key] = got[0]
    return values


def parse_query(request: web.Request, model: type[M]) -> M:
    return _validate(model, _single_values(request.query, model, "query"), "query")


def parse_path(request: web.Request, model: type[M]) -> M:
    return _validate(model, dict(request.match_info), "path")


def parse_headers(request: web.Request, model: type[M]) -> M:
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if (value := request.headers.get(key)) is not None and value.strip():
            values[key] = value.strip()
    return _validate(model, values, "header")


def is_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(Id)


def check_path(request: web.Request) -> None:
    """Every path parameter of every /v1 route is an id: ``invalid_<name>`` otherwise."""
    if not request.path.startswith("/v1/"):
        return
    for name, value in request.match_info.items():
        try:
            _ID_ADAPTER.validate_python(value)
        except ValidationError:
            raise ApiError(400, f"invalid_{name}", f"{name} is not a valid id (1-200 of A-Z a-z 0-9 _ . : -).") from None


def path_param(name: str, description: str = "") -> dict[str, Any]:
    """The OpenAPI description of a path parameter: the ``Id`` rule ``check_path`` enforces."""
    schema = {k: v for k, v in _ID_ADAPTER.json_schema().items() if k != "title"}
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        param["description"] = description
    return param


@web.middleware
async def path_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    check_path(request)
    return await handler(request)

"""What Instagram's publish steps end with: Meta's refusals mapped to the post errors a person
can act on (code, message, whether changing the request helps), with Meta's code/subcode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialsync.platforms.base import StepOutcome
from socialsync.platforms.instagram import containers
from socialsync.platforms.instagram.errors import ErrorKind, GraphError


def gone(exc: BaseException) -> bool:
    """The container is not there any more (expired and purged, or never existed for Meta)."""
    return isinstance(exc, GraphError) and (
        exc.kind is ErrorKind.CONTAINER_GONE or (exc.code == 100 and exc.subcode == 33)
    )


def describe(exc: BaseException) -> str:
    if isinstance(exc, GraphError):
        return f"{exc.kind.value} (code {exc.code}/{exc.subcode}): {exc.message}"
    return f"{type(exc).__name__}: {exc}"


# Container ERROR subcodes (and refusals of bad input) → (code, message, caller can fix).
ERROR_REASONS: dict[int, tuple[str, str]] = {
    2207052: ("media_url_unreachable",
              "Instagram could not fetch a media URL: make sure it is public and served over https."),
    2207009: ("aspect_ratio_not_supported",
              "An image's aspect ratio is not supported (4:5 to 1.91:1): crop it and post again."),
    2207026: ("video_format_not_supported",
              "A video's format is not supported (MP4/MOV, H.264/HEVC, 3 s to 15 min): re-encode it."),
    2207004: ("image_too_large", "An image is larger than 8 MiB: make it smaller."),
    2207005: ("media_format_not_supported", "A media file's format is not supported: use JPEG or MP4."),
    2207010: ("caption_too_long", "The caption is too long for Instagram: shorten it."),
    2207028: ("carousel_item_count", "A carousel needs 2 to 10 items."),
}


def failed(code: str, message: str, *, caller_can_fix: bool, exc: BaseException | None = None,
           fields: Mapping[str, Any] | None = None) -> StepOutcome:
    """A final failure, with Meta's code/subcode when an error gave them."""
    code_, subcode = (exc.code, exc.subcode) if isinstance(exc, GraphError) else (None, None)
    return StepOutcome("failed", error_code=code, message=message, caller_can_fix=caller_can_fix,
                       platform_code=code_, platform_subcode=subcode, fields=dict(fields or {}))


def failure_for(exc: BaseException) -> StepOutcome:
    """The final outcome of a platform error: the caller's input, permissions, or other."""
    if isinstance(exc, GraphError):
        if exc.subcode in ERROR_REASONS:
            code, message = ERROR_REASONS[exc.subcode]
            return failed(code, message, caller_can_fix=True, exc=exc)
        if exc.kind is ErrorKind.MEDIA_URL:
            code, message = ERROR_REASONS[2207052]
            return failed(code, message, caller_can_fix=True, exc=exc)
        if exc.kind is ErrorKind.BAD_INPUT:
            return failed("media_rejected", f"Instagram refused the media: {exc.message}", caller_can_fix=True, exc=exc)
        if exc.kind is ErrorKind.PERMISSION:
            return failed("permission_missing",
                          "The account lacks the publishing permission: reconnect it and allow publishing.",
                          caller_can_fix=True, exc=exc)
    return failed("platform_error", f"Instagram kept failing: {describe(exc)}. Try again later.",
                  caller_can_fix=False, exc=exc)


def container_error(status: containers.ContainerStatus, fields: Mapping[str, Any] | None = None) -> StepOutcome:
    subcode = status.error_subcode
    code, message = ERROR_REASONS.get(
        subcode or 0, ("container_error", f"Instagram could not process the media ({status.status or 'ERROR'})."))
    return StepOutcome("failed", error_code=code, message=message, caller_can_fix=True,
                       platform_subcode=subcode, fields=dict(fields or {}))

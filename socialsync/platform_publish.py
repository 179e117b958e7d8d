"""Publishing for interface platforms (TikTok…) until the generic machine (socialsync/publishing/,
issue 8) drives them: create a post (validated before queuing, idempotent per Idempotency-Key),
then one job per step, fenced by the post's ``tick`` (compare-and-set).

Each step: mark it started (``step_started_tick``), call ``publish.advance`` with the stored
view (``step`` + the platform's fields; ``interrupted`` when the previous try of this tick started
and never recorded an outcome: a dead worker), then store the outcome's fields and the next step
under ``tick + 1`` *before* anything acts on them, and enqueue the next job (now, or deferred by the
outcome's wait: never a sleep). Final outcomes emit ``post.published`` / ``post.failed`` once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from socialsync import events, queue
from socialsync.platform_tokens import fresh_ref
from socialsync.plugins import plugin_for
from socialsync.store import posts as post_store

JOB = "platform.publish_step"
STATE_OF_STEP = {"queued": "scheduled", "ready": "creating", "initialised": "creating",
                 "reconcile": "processing", "processing": "processing"}


def job_id(post_id: str, tick: int) -> str:
    return f"ppublish:{post_id}:{tick}"


async def enqueue_step(services: Any, post_id: str, tick: int, defer: float | None = None) -> None:
    await queue.enqueue(services.redis, JOB, post_id, tick, job_id=job_id(post_id, tick), defer_seconds=defer)


def new_post_doc(*, tenant_id: str, account: dict[str, Any], key: str, fingerprint: str,
                 request: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "_id": post_store.new_post_id(), "tenant_id": tenant_id, "account_id": account["_id"],
        "platform": account["platform"], "external_id": account["external_id"], "idempotency_key": key,
        "fingerprint": fingerprint, "request": request, "state": "scheduled", "state_reason": None,
        "step": "queued", "tick": 0, "platform_fields": {}, "publish_attempts": 0,
        "attempts": [{"at": now, "step": "accepted", "outcome": "scheduled", "detail": None}],
        "created_at": now, "updated_at": now,
    }


async def run_step(services: Any, post_id: str, tick: int) -> str:
    col = services.store[post_store.COLLECTION]
    post = await col.find_one({"_id": post_id})
    if post is None or post.get("tick") != tick or post.get("state") in post_store.FINAL_STATES:
        return "stale"
    interrupted = post.get("step_started_tick") == tick
    await col.update_one({"_id": post_id, "tick": tick}, {"$set": {"step_started_tick": tick}})
    ref = await fresh_ref(services, post["account_id"])
    now = datetime.now(UTC)
    if ref is None:
        out_action, fields = "failed", {"error": {"code": "account_unavailable",
                                                   "message": "The account needs reconnecting or was disconnected."}}
        outcome = None
    else:
        plugin = plugin_for(services, post["platform"])
        assert plugin.publish is not None
        view = {"state": post["step"], "request": post["request"], "interrupted": interrupted,
                **(post.get("platform_fields") or {})}
        outcome = await plugin.publish.advance(ref, view, now)
        out_action, fields = outcome.action, {}
    set_: dict[str, Any] = {"tick": tick + 1, "updated_at": now}
    if outcome is not None:
        set_.update({f"platform_fields.{k}": v for k, v in outcome.fields.items()
                     if k not in ("media_id", "permalink")})
        step = outcome.state or post["step"]
        set_["step"] = step
        set_["state"] = STATE_OF_STEP.get(step, "processing")
        set_["state_reason"] = outcome.reason
        if out_action == "published":
            set_.update(state="published", published_at=now, media_id=outcome.fields.get("media_id"),
                        permalink=outcome.fields.get("permalink"), state_reason=None)
        elif out_action == "failed":
            set_.update(state="failed", state_reason=None, error={
                "code": outcome.error_code, "message": outcome.message, "caller_can_fix": outcome.caller_can_fix})
    else:
        set_.update(state="failed", **fields)
    attempt = {"at": now, "step": post["step"], "outcome": out_action,
               "detail": (outcome.reason or outcome.error_code) if outcome else "account_unavailable"}
    stored = await col.find_one_and_update(
        {"_id": post_id, "tick": tick},
        {"$set": set_, "$push": {"attempts": {"$each": [attempt], "$slice": -50}}},
        return_document=True,
    )
    if stored is None:
        return "stale"  # another worker moved the post meanwhile (its job holds the fence)
    if stored["state"] in ("published", "failed"):
        kind = "post.published" if stored["state"] == "published" else "post.failed"
        data = {"post_id": post_id, "account_id": stored["account_id"], "type": stored["request"]["type"],
                "platform": stored["platform"]}
        if kind == "post.published":
            data.update(media_id=stored.get("media_id"), permalink=stored.get("permalink"),
                        published_at=stored["published_at"].isoformat())
        else:
            data["error"] = stored.get("error")
        await events.emit(services, stored["tenant_id"], kind, data, event_key=f"{kind}:{post_id}")
        return stored["state"]
    wait = outcome.wait_seconds if outcome is not None and out_action == "wait" else None
    await enqueue_step(services, post_id, tick + 1, defer=wait)
    return out_action


async def nudge(services: Any, publish_id: str) -> int:
    """A post.publish.* webhook: poll the matching post now instead of at its next deferred time."""
    col = services.store[post_store.COLLECTION]
    count = 0
    async for post in col.find({"platform_fields.tiktok_publish_id": publish_id, "step": "processing",
                                "state": {"$nin": list(post_store.FINAL_STATES)}}):
        await col.update_one({"_id": post["_id"]}, {"$set": {"webhook_nudged_at": datetime.now(UTC)}})
        await queue.enqueue(services.redis, JOB, post["_id"], post["tick"],
                            job_id=f"{job_id(post['_id'], post['tick'])}:hook")
        count += 1
    return count


async def sweep(services: Any, older_than: timedelta) -> int:
    """Posts whose next step job went missing (enqueue lost, worker died past arq's retries)."""
    cutoff = datetime.now(UTC) - older_than
    col = services.store[post_store.COLLECTION]
    count = 0
    async for post in col.find({"platform": {"$exists": True}, "state": {"$nin": list(post_store.FINAL_STATES)},
                                "updated_at": {"$lt": cutoff}}).limit(500):
        await queue.enqueue(services.redis, JOB, post["_id"], post["tick"],
                            job_id=f"{job_id(post['_id'], post['tick'])}:sweep:{int(cutoff.timestamp())}")
        count += 1
    return count

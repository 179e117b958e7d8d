"""Issue 8 §4, grep-level, for the post, comment, mention, action and analytics paths of the core:
no platform's module imported and no platform literal in code (docstrings, comments and API
descriptions may name a platform as an example). tests/test_connect_plugin.py pins the connect
path the same way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("instagram", "facebook", "meta", "ig_", "graph.", "tiktok", "youtube", "google")
PLATFORM_MODULES = ("socialsync.platforms.instagram", "socialsync.platforms.tiktok", "socialsync.platforms.youtube",
                    "socialsync.plugins")
CORE_MODULES = (
    "webhooks/routes/posts.py", "webhooks/routes/post_create.py", "webhooks/routes/comments.py",
    "webhooks/routes/media.py", "webhooks/routes/analytics.py", "webhooks/routes/mentions.py",
    "webhooks/console/pages.py", "webhooks/console/actions.py", "webhooks/console/session.py",
    "worker/jobs/platform_errors.py", "worker/jobs/comments.py",
    "socialsync/store/comments.py", "socialsync/store/mentions.py", "socialsync/store/posts.py",
    "socialsync/store/actions.py", "socialsync/store/sync_runs.py", "socialsync/crm_events/outbox.py",
    "socialsync/comments/__init__.py", "socialsync/comments/backfill.py", "socialsync/comments/notify.py",
    "socialsync/publishing/plugin_run.py", "socialsync/publishing/own_posts.py", "socialsync/logs.py",
)


def platform_names_in(rel: str) -> list[tuple[int, str]]:
    """(line, text) of each platform import or code string literal naming a platform."""
    tree = ast.parse((ROOT / rel).read_text())
    documentation = {id(n.body[0].value) for n in ast.walk(tree)
                     if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                     and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    documentation |= {id(sub) for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "description"
                      for sub in ast.walk(n.value)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [(node.lineno, name) for name in names if name.startswith(PLATFORM_MODULES)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation:
            if any(word in node.value.lower() for word in WORDS):
                found.append((node.lineno, node.value))
    return found


def test_the_core_post_comment_and_event_paths_name_no_platform() -> None:
    problems = {rel: names for rel in CORE_MODULES if (names := platform_names_in(rel))}
    assert problems == {}


def test_the_check_sees_a_platform_literal_and_import(tmp_path: Path) -> None:
    module = ROOT / "tests" / "_platform_literal_probe.py"
    module.write_text('"""Docstring naming Instagram is fine."""\nfrom socialsync.platforms.instagram import errors\n'
                      'X = doc.get("platform") or "instagram"\nY = f(description="Meta may name it")\n')
    try:
        found = platform_names_in("tests/_platform_literal_probe.py")
    finally:
        module.unlink()
    assert found == [(2, "socialsync.platforms.instagram"), (3, "instagram")]

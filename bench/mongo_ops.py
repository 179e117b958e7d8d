"""Every MongoDB command a process sends, counted with pymongo's command monitoring: per command
and collection, the round trips, the documents written and the time the server took as the
client saw it. Shared by bench/sync_storage_ops.py and bench/webhook_storage_ops.py; not a
benchmark itself."""

from __future__ import annotations

from collections import defaultdict

from pymongo import monitoring


class Counter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.pending: dict[int, tuple[str, str, int]] = {}
        self.rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
        self.on = False

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on:
            return
        name = event.command_name
        cmd = event.command
        collection = str(cmd.get(name, ""))[:16] if name not in ("commitTransaction", "abortTransaction") else ""
        docs = len(cmd.get("documents", ())) or len(cmd.get("updates", ())) or len(cmd.get("deletes", ()))
        if name == "findAndModify":
            docs = 1
        self.pending[event.request_id] = (name, collection, docs)

    def _done(self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent) -> None:
        found = self.pending.pop(event.request_id, None)
        if found is None:
            return
        name, collection, docs = found
        row = self.rows[(name, collection)]
        row[0] += 1
        row[1] += docs
        row[2] += event.duration_micros / 1e6

    succeeded = _done
    failed = _done

    def table(self, per: int, unit: str) -> str:
        """The counts per ``unit`` (``per`` of them were done), biggest server time first."""
        lines = [f"{'command':<16} {'collection':<16} {'round trips/' + unit:>18} {'docs/' + unit:>10} "
                 f"{'server ms/' + unit:>15}"]
        total = [0.0, 0.0, 0.0]
        for (name, collection), (n, d, secs) in sorted(self.rows.items(), key=lambda kv: -kv[1][2]):
            if name in ("createIndexes", "endSessions", "listIndexes"):
                continue
            lines.append(f"{name:<16} {collection:<16} {n / per:18.2f} {d / per:10.2f} {secs * 1000 / per:15.2f}")
            total = [total[0] + n, total[1] + d, total[2] + secs]
        lines.append(f"{'all':<33} {total[0] / per:18.2f} {total[1] / per:10.2f} {total[2] * 1000 / per:15.2f}")
        return "\n".join(lines)

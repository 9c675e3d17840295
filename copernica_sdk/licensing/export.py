"""File export of a period's usage: JSONL or CSV plus a signed manifest.

The manifest holds the data file's SHA-256 and is signed with the install's own
key (:mod:`.usage_signing`), so the partner ledger can tell the file came from
that install unchanged.

Deterministic: events ordered by ``(occurred_at, event_id)``, fixed columns,
``\\n`` line ends, and a manifest with no timestamps of its own — re-exporting
a period gives identical bytes.  Exporting only reads; it never changes what is
billed or delivered.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .install import read_install
from .ledger import UsageEvent, open_ledger, read_events
from .usage_signing import EXPORT_DOMAIN, install_key, sign_document

__all__ = ["ExportResult", "export_period", "render_events", "totals"]

FORMATS = ("jsonl", "csv")


def render_events(events: Sequence[UsageEvent], fmt: str) -> bytes:
    """The data file's bytes."""
    if fmt == "jsonl":
        return b"".join(json.dumps(e.to_json(), sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode() + b"\n" for e in events)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(UsageEvent.fields())
        for e in events:
            writer.writerow(["" if v is None else v for v in e.to_json().values()])
        return buf.getvalue().encode()
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def totals(events: Sequence[UsageEvent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        out[e.metric] = out.get(e.metric, 0) + e.quantity
    return dict(sorted(out.items()))


def manifest_for(events: Sequence[UsageEvent], data: bytes, *, period: str, fmt: str,
                 filename: str, install_id: str | None = None) -> dict[str, Any]:
    return {
        "install_id": install_id,
        "format": fmt, "file": filename, "period": period,
        "event_count": len(events), "totals": totals(events),
        "sha256": hashlib.sha256(data).hexdigest(),
        "first_event": events[0].occurred_at if events else None,
        "last_event": events[-1].occurred_at if events else None,
        "installs": sorted({e.install_id for e in events}),
        "unlicensed_events": sum(1 for e in events
                                 if e.license_state not in ("valid", "grace", "wrong_shop")),
        "clock_suspect_events": sum(1 for e in events if "clock_suspect" in e.flags),
        "schema": "copernica-usage/1",
    }


@dataclass(frozen=True)
class ExportResult:
    data_path: Path
    manifest_path: Path
    event_count: int
    sha256: str


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def export_period(state_path: str | os.PathLike[str], period: str, out_dir: str | os.PathLike[str],
                  fmt: str = "jsonl", *, install_tag: str | None = None) -> ExportResult:
    """Write ``usage-<period>[-<install>].<fmt>`` and its ``.manifest.json``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    with open_ledger(state_path) as conn:
        events = read_events(conn, period=period)
        stored = read_install(conn)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    tag = install_tag or (events[0].install_id[:8] if events else "none")
    name = f"usage-{period}-{tag}.{fmt}"
    data = render_events(events, fmt)
    manifest = manifest_for(events, data, period=period, fmt=fmt, filename=name,
                            install_id=stored[0] if stored else None)
    key = install_key(state_path)  # made now for an install metered before keys existed
    assert key is not None
    manifest = sign_document(manifest, key, EXPORT_DOMAIN)
    data_path, manifest_path = directory / name, directory / f"{name}.manifest.json"
    _write(data_path, data)
    _write(manifest_path, (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode())
    return ExportResult(data_path, manifest_path, len(events), manifest["sha256"])

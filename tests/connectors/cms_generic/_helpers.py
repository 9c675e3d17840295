"""Shared helpers: presets pointed at a FakeCms, CSV files, a retry policy that never sleeps."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync.state import StateStore
from copernica_sync.connectors.cms_generic import GenericCmsConnector
from copernica_sync.connectors.cms_generic import testing as fake

PRESETS = Path(__file__).resolve().parents[3] / "connectors" / "cms_generic" / "presets"
NO_SLEEP = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)

CSV_HEADER = "Contact ID;E-mail;First name;Last name;Newsletter;Updated\n"


def preset(name: str) -> dict[str, Any]:
    """A preset file as a dict (``source`` and ``target`` tables)."""
    with (PRESETS / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def preset_source(name: str, base_url: str | None = None, **extra: Any) -> dict[str, Any]:
    """The preset's ``[source]`` aimed at the fake, with the fake's credentials."""
    source = dict(preset(name)["source"])
    if base_url is not None:
        source["base_url"] = base_url
    if "auth" in source:
        source["auth"] = {**source["auth"], "username": fake.USER, "password": fake.PASSWORD}
    source.update(extra)
    return source


def connector(config: dict[str, Any]) -> GenericCmsConnector:
    return GenericCmsConnector(config, policy=NO_SLEEP)


def read_all(conn: GenericCmsConnector, name: str, start: str | None = None,
             until: str = "2999-01-01T00:00:00") -> list[dict[str, Any]]:
    """Every record of ``name`` in one read.  Like the engine, it loads the stream's
    own state before reading and commits it after (in a state file beside the
    connector's ledger), so consecutive reads see what earlier ones processed."""
    stream = next(s for s in conn.streams() if s.name == name)
    with StateStore(conn.ledger.path.with_name("read_all.sqlite3")) as state:
        stream.state = state.stream_state(name)
        records = [r for page in stream.read(start, until) for r in page]
        with state.checkpoint() as cp:
            cp.set_stream_state(name, stream.state)
    return records


def write_csv(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    lines = [";".join(str(v) for v in row) for row in rows]
    path.write_text(CSV_HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path

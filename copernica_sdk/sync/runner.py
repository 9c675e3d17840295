"""Build a job's parts from its configuration.

Running a job (lock, license preflight, engine, usage flush) is
:func:`copernica_sdk.jobs.run_job`: it wires licensing in, and ``sync`` does not
import ``licensing``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from .. import _sql
from ..auth import AccessTokenAuth, Auth, BearerAuth, LoginAuth
from ..client import CallGate, ConnectionPool, CopernicaClient, Timeout
from ..schema import CollectionSchema, DatabaseSchema, FieldSchema
from .config import CopernicaSettings, JobConfig
from .connector import Connector
from .engine import SyncOptions
from .mapping import FieldSpec, TargetMapping, parse_target
from .registry import load_connector
from .state import StateStore
from .state_files import resolve_state_path

__all__ = ["Job", "build_client", "open_job", "schema_for", "state_location_for",
           "state_path_for"]


def build_client(settings: CopernicaSettings, *, pool: ConnectionPool | None = None,
                 max_connections: int | None = None,
                 call_gate: CallGate | None = None) -> CopernicaClient:
    """A client for the ``[copernica]`` settings of a job.

    ``max_connections``: the keep-alive connections of its own pool; a job passes
    its ``sync.concurrency`` so every writer keeps its connection.
    """
    auth: Auth
    if settings.auth == "login":
        assert settings.username and settings.password
        auth = LoginAuth(settings.username, settings.password, settings.account)
    elif settings.auth == "bearer":
        assert settings.access_token
        auth = BearerAuth(settings.access_token, auth_endpoint=settings.auth_endpoint)
    else:
        assert settings.access_token
        auth = AccessTokenAuth(settings.access_token)
    return CopernicaClient(auth=auth, endpoint=settings.endpoint, wsdl=settings.wsdl,
                           timeout=Timeout(connect=min(10.0, settings.timeout),
                                           read=settings.timeout, total=settings.deadline),
                           page_size=settings.page_size, pool=pool,
                           max_connections=max_connections, call_gate=call_gate)


def _field(spec: FieldSpec) -> FieldSchema:
    return FieldSchema(spec.name, type=spec.type, length=spec.length, index=spec.index)


def schema_for(target: TargetMapping) -> DatabaseSchema:
    """The database, collections and fields a mapping writes to."""
    return DatabaseSchema(
        target.database,
        fields=[_field(f) for f in target.database_fields()],
        collections=[CollectionSchema(name, [_field(f) for f in fields])
                     for name, fields in target.collections().items()],
    )


def state_path_for(job: JobConfig) -> Path:
    """The job's state file, resolved (``~``, ``$VAR``, relative parts, symlinks):
    one file, one lock, however the path was written."""
    return resolve_state_path(job.sync.state_path, job.name)


def state_location_for(job: JobConfig) -> Path | str:
    """Where the job's state lives: its SQLite file (:func:`state_path_for`), or —
    with ``sync.state_url`` — the job's own schema in that PostgreSQL database
    (a URL; see :func:`copernica_sdk._sql.job_location`)."""
    if job.sync.state_url:
        return _sql.job_location(job.sync.state_url, job.name)
    return state_path_for(job)


@dataclass
class Job:
    """A job's live parts.  Use :func:`open_job` to get one and close it after."""

    config: JobConfig
    client: CopernicaClient
    connector: Connector
    target: TargetMapping
    state: StateStore

    def options(self, **overrides: Any) -> SyncOptions:
        """The job's sync options with command-line ``overrides`` applied."""
        base = SyncOptions(concurrency=self.config.sync.concurrency,
                           lookback=timedelta(minutes=self.config.sync.lookback_minutes))
        return replace(base, **overrides)

    def secrets(self) -> list[str]:
        return [*self.config.secrets(), *self.connector.secrets()]


@contextmanager
def open_state(path: Path | str) -> Iterator[StateStore]:
    """Open the state at ``path`` (a file, or a PostgreSQL location) and check all of
    it for damage first.

    Every command that reads or changes a state file opens it here, so that a
    corrupt page is reported (:class:`StateError`, exit 6) before anything is
    read or written, not only when a command happens to touch that page.
    """
    with StateStore(path) as state:
        state.verify()
        yield state


@contextmanager
def open_job(config: JobConfig, *, pool: ConnectionPool | None = None,
             dry_run: bool = False, call_gate: CallGate | None = None) -> Iterator[Job]:
    """Validate the source config and mapping, then build client, connector and state.

    ``dry_run``: a job that never ran gets a throw-away state file, so trying a
    config leaves nothing behind.  ``call_gate``: see :class:`CopernicaClient`.
    """
    connector_cls = load_connector(config.connector)
    connector = connector_cls({k: v for k, v in config.source.items() if k != "connector"})
    try:
        target = parse_target(config.target, connector.default_mapping())
        # One keep-alive connection per writer (a shared ``pool`` is sized by its owner).
        client = build_client(config.copernica, pool=pool,
                              max_connections=None if pool is not None
                              else max(10, config.sync.concurrency), call_gate=call_gate)
        path = state_location_for(config)
        try:
            with ExitStack() as stack:
                if dry_run and isinstance(path, Path) and not path.exists():
                    path = Path(stack.enter_context(TemporaryDirectory())) / path.name
                state = stack.enter_context(open_state(path))
                yield Job(config, client, connector, target, state)
        finally:
            client.close()
    finally:
        connector.close()

"""Secrets at any depth never show: config show, errors, logs at -vv, dead letters, state.

The test walks every connector's spec — every connector registered through the
entry-point registry, plus the hello example — and collects every declared secret:
``secret=True`` settings and the ``secret_keys`` inside table settings (such as
cms_generic's ``source.auth.password``).  Each one is set (to the fake's real
credential where the fake checks it, to a sentinel otherwise) and then searched for
in everything the real ``copernica-sync`` process prints and stores.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.sync.connector import MASK, Connector
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sync.connectors.cms_generic import testing as fake_cms
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from ..config_files import toml_text
from ..installed import own_connectors
from .conftest import TOKEN, Project, describe, output

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hello_connector"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from hello_connector import HelloConnector  # noqa: E402
from hello_connector.fake_api import FakeMembersApi  # noqa: E402

Path_ = tuple[str, ...]


def declared_secret_paths(connector: type[Connector], source: dict[str, Any] | None = None
                          ) -> list[Path_]:
    """Every secret the spec declares, as a key path inside ``[source]``.

    A pattern becomes one concrete key: a component that is only ``*`` is the
    first entry ``source`` has there (e.g. a stream's name), other wildcards a
    name of their own (``*api?key*`` -> ``Xapi-keyX``)."""
    paths: list[Path_] = []
    for field in connector.config_spec:
        if field.secret:
            paths.append((field.name,))
        for key in field.secret_keys:
            path: list[str] = [field.name]
            for part in key.split("."):
                if part == "*":
                    table = get_path(source or {}, tuple(path))
                    if not isinstance(table, dict) or not table:
                        break
                    part = next(iter(table))
                path.append(part.replace("*", "X").replace("?", "-"))
            else:
                if "body" in path and get_path(source or {}, tuple(path[:-1])) is None:
                    continue  # a body is for POST streams only; the live ones GET
                paths.append(tuple(path))
    return paths


def get_path(table: dict[str, Any], path: Path_) -> Any:
    for key in path:
        if not isinstance(table, dict) or key not in table:
            return None
        table = table[key]
    return table


def set_path(table: dict[str, Any], path: Path_, value: Any) -> None:
    for key in path[:-1]:
        table = table.setdefault(key, {})
    table[path[-1]] = value


def sentinel(connector: str, path: Path_) -> str:
    return f"SENTINEL-{connector}-{'-'.join(path)}-5e0c9b1d"


@dataclass
class Live:
    """A connector's fake, a [source] holding its real credentials and a [target]
    that dead-letters every profile (a text where Copernica wants a phone number)."""

    source: dict[str, Any]
    target: dict[str, Any]


def _phone_typed(stream: str) -> dict[str, Any]:
    return {"streams": {stream: {"profile": {"fields": {
        "phone": {"source": "first_name", "type": "phone"}}}}}}


@contextmanager
def woocommerce_live() -> Iterator[Live]:
    with FakeShop(customers=6, orders=10, seed=5) as shop:
        target = _phone_typed("customers")
        target["streams"]["orders"] = {"profile": {"fields": {  # one type per field
            "phone": {"source": "billing.first_name", "type": "phone"}}}}
        yield Live(shop.source_config(), target)


@contextmanager
def cms_generic_live() -> Iterator[Live]:
    import tomllib

    preset = tomllib.loads((ROOT / "connectors" / "cms_generic" / "presets" / "wordpress.toml")
                           .read_text(encoding="utf-8"))
    with fake_cms.FakeCms(contacts=6, auth="basic") as cms:
        source = dict(preset["source"], base_url=cms.url)
        source["auth"] = {**source["auth"], "username": fake_cms.USER,
                          "password": fake_cms.PASSWORD}
        target = preset["target"]
        target["streams"]["users"]["profile"]["fields"]["phone"] = {
            "source": "first_name", "type": "phone"}
        yield Live(source, target)


@contextmanager
def hello_live() -> Iterator[Live]:
    with FakeMembersApi(members=6, token="hello-live-token-8a7b6c5d") as api:
        yield Live(api.source_config(), _phone_typed("members"))


LIVE: dict[str, Callable[[], AbstractContextManager[Live]]] = {
    "woocommerce": woocommerce_live, "cms_generic": cms_generic_live, "hello": hello_live}


def connectors() -> dict[str, type[Connector]]:
    found = {name: info.connector for name, info in own_connectors().items() if info.connector}
    return {**found, "hello": HelloConnector}


def hello_entry_point(tmp: Path) -> str:
    """A PYTHONPATH that registers the example through the real entry-point registry."""
    site = tmp / "site"
    dist = site / "copernica_sync_hello_example-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: copernica-sync-hello-example\n"
                                   "Version: 0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(
        "[copernica_sdk.connectors]\nhello = hello_connector:HelloConnector\n", encoding="utf-8")
    return f"{site}:{EXAMPLE}"


def test_cms_generic_declares_its_auth_secrets() -> None:
    paths = declared_secret_paths(connectors()["cms_generic"])
    assert {("auth", "password"), ("auth", "token"), ("auth", "key")} <= set(paths)


def test_cms_generic_credential_headers_and_params_are_secret_at_any_depth() -> None:
    """``headers``/``params`` are free-form: an Authorization, X-API-Key or cookie
    value there is masked and redacted, at the top and in each stream."""
    cms = connectors()["cms_generic"]
    source = {"headers": {"Authorization": "Bearer hdr-1", "X-API-Key": "hdr-2",
                          "Cookie": "sid=hdr-3", "Accept": "application/json"},
              "streams": {"users": {"path": "/u", "primary_key": "id",
                                    "headers": {"x-auth-token": "hdr-4", "Accept": "a/b"},
                                    "params": {"api_key": "hdr-5", "per_page": "100"}}}}
    assert sorted(cms.secret_values(source)) == ["Bearer hdr-1", "hdr-2", "hdr-4", "hdr-5",
                                                 "sid=hdr-3"]
    masked = cms.masked_config(source)
    assert masked["headers"] == {"Authorization": MASK, "X-API-Key": MASK, "Cookie": MASK,
                                 "Accept": "application/json"}
    users = masked["streams"]["users"]
    assert users["headers"] == {"x-auth-token": MASK, "Accept": "a/b"}
    assert users["params"] == {"api_key": MASK, "per_page": "100"}
    assert users["primary_key"] == "id"


@pytest.mark.parametrize("name", sorted(connectors()))
def test_no_declared_secret_at_any_depth_shows_or_is_stored(
        tmp_path: Path, copernica: FakeCopernica, name: str) -> None:
    connector = connectors()[name]
    assert name in LIVE, f"add a live set-up for connector {name!r} to this test"
    with ExitStack() as stack:
        live = stack.enter_context(LIVE[name]())
        paths = declared_secret_paths(connector, live.source)
        assert paths, f"{name} declares no secret"
        source = json.loads(json.dumps(live.source))
        for path in paths:
            if get_path(source, path) in (None, ""):
                set_path(source, path, sentinel(name, path))  # declared, not checked by the fake
        secrets = [str(get_path(source, path)) for path in paths] + [TOKEN]
        assert sorted(connector.secret_values(source)) == sorted(secrets[:-1])

        state = tmp_path / "state" / f"{name}.sqlite3"
        project = Project(tmp_path, copernica, None, tmp_path / "copernica-sync.toml",  # type: ignore[arg-type]
                          state, env={"PYTHONPATH": hello_entry_point(tmp_path),
                                      "HOME": str(tmp_path)})

        def write(source: dict[str, Any], **extra: dict[str, Any]) -> None:
            project.write(toml_text({
                "copernica": {"access_token": TOKEN, "endpoint": copernica.url},
                "source": source, "target": live.target,
                "sync": {"state_path": str(state)}, **extra}))

        def assert_hidden(result: Any, *codes: int) -> str:
            text = output(result)
            assert result.returncode in codes, describe(result)
            assert "Traceback" not in text, describe(result)
            for secret in secrets:
                assert secret not in text, f"{name}: {secret} leaked\n{text}"
            return text

        write(source)
        shown = assert_hidden(project.run("config", "show"), 0)
        for path in paths:
            assert f"source.{path[0]} = " in shown
        assert shown.count(MASK) >= len(paths), shown
        assert_hidden(project.run("-vv", "check"), 0)
        assert_hidden(project.run("schema", "apply"), 0)
        ran = assert_hidden(project.run("-vv", "run"), 1)
        assert "run finished" in ran  # the log is on
        listed = assert_hidden(project.run("dlq", "list", "--payload", "--all-statuses"), 0)
        assert "#" in listed, "the run dead-lettered records"
        assert_hidden(project.run("-vv", "dlq", "retry"), 1)
        assert_hidden(project.run("state", "show"), 0)
        for file in state.parent.iterdir():
            data = file.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"{name}: {secret} stored in {file.name}"

        # Errors: a config problem next to the secrets, and refused credentials.
        write({**source, "no_such_setting": 1})
        assert_hidden(project.run("-vv", "check"), 2)
        wrong = json.loads(json.dumps(source))
        for path in paths:
            set_path(wrong, path, sentinel(name, path) + "-wrong")
        secrets += [sentinel(name, path) + "-wrong" for path in paths]
        write(wrong)
        assert_hidden(project.run("-vv", "check"), 4, 5)
        assert_hidden(project.run("-vv", "run"), 4, 5)
        # A secret of the wrong type is not echoed either.
        typed = json.loads(json.dumps(source))
        for path in paths:
            set_path(typed, path, 918273645)
        secrets.append("918273645")
        write(typed)
        assert_hidden(project.run("config", "show"), 2)

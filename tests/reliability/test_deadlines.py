"""Never hang, never leak: every HTTP call has a whole-call deadline, redirects are refused.

A server that trickles a never-ending body (800 bytes every 0.5 s) used to hang
``check`` and ``run`` forever — the read timeout applies per socket read — while
the job lock was held.  Each test below uses a 1-2 s deadline and asserts only a
generous upper bound on the time (the retry policy decides how often a call is
tried again; see docs/guarantees.md for the bound).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from copernica_sdk import deadline as http_deadline
from copernica_sdk.retry import RetryPolicy
from copernica_sdk.sync.errors import ConfigError, SourceUnavailableError
from copernica_sdk.testing.fake_copernica import FakeCopernica
from copernica_sdk.testing.hostile_soap import HostileSoap, RecordingServer
from copernica_sync.connectors.cms_generic.client import CmsClient, authenticator
from copernica_sync.connectors.cms_generic.config import AuthConfig
from copernica_sync.connectors.cms_generic.testing import FakeCms
from copernica_sync.connectors.woocommerce.fake_shop import FakeShop

from .conftest import TOKEN, CliJob, describe

#: Far more than any bounded run needs, far less than "forever".
BOUND = 90.0


def _timed(job: CliJob, *args: str) -> tuple[float, object]:
    started = time.monotonic()
    result = job.run(*args, timeout=BOUND + 60)
    return time.monotonic() - started, result


@pytest.mark.slow  # the real command's retries back off for real: ~10-45 s
def test_a_shop_that_trickles_its_answer_ends_check_and_run_with_exit_5_and_frees_the_lock(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    job = CliJob.create(tmp_path, shop, copernica, source=shop.source_config(deadline=1))
    shop.faults.set_rate(1.0, ["trickle"])
    for command in ("check", "run"):
        seconds, result = _timed(job, command)
        assert result.returncode == 5, describe(result)  # type: ignore[attr-defined]
        assert "deadline" in result.stderr + result.stdout  # type: ignore[attr-defined]
        assert seconds < BOUND, f"{command} took {seconds:.0f} s"
    shop.faults.clear()
    job = CliJob.create(tmp_path, shop, copernica)  # the same job and state, default deadline
    again = job.run("run")
    assert again.returncode == 0, describe(again)  # the lock was released: not 75
    assert len(copernica.profiles("Customers")) > 0


@pytest.mark.slow  # the real command's retries back off for real: ~10-45 s
def test_a_copernica_endpoint_that_trickles_ends_check_and_run_with_exit_5_and_frees_the_lock(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    with HostileSoap("trickle") as hostile:
        job = CliJob.create(tmp_path, shop, copernica,
                            extra={"copernica": {"endpoint": hostile.url, "deadline": 1}})
        for command in ("check", "run"):
            seconds, result = _timed(job, command)
            assert result.returncode == 5, describe(result)  # type: ignore[attr-defined]
            assert "deadline" in result.stderr  # type: ignore[attr-defined]
            assert seconds < BOUND, f"{command} took {seconds:.0f} s"
        assert hostile.requests, "the hostile endpoint was never called"
    job = CliJob.create(tmp_path, shop, copernica)  # the same job and state, honest endpoint
    again = job.run("run")
    assert again.returncode == 0, describe(again)


def test_a_copernica_endpoint_that_redirects_is_refused_and_the_token_goes_nowhere_else(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    with HostileSoap("redirect") as hostile:
        job = CliJob.create(tmp_path, shop, copernica,
                            extra={"copernica": {"endpoint": hostile.url}})
        for command in ("check", "run"):
            result = job.run(command)
            assert result.returncode == 2, describe(result)
            assert hostile.elsewhere.url.split("//")[1].rstrip("/") in result.stderr
            assert "redirect" in result.stderr
        assert hostile.elsewhere.requests == []
        assert not hostile.token_sent_elsewhere(TOKEN)
        assert len(hostile.requests) == 2  # one call each, never retried


def test_a_shop_that_redirects_to_another_host_is_a_config_error_and_nothing_reaches_it(
        tmp_path: Path, shop: FakeShop, copernica: FakeCopernica) -> None:
    with RecordingServer() as elsewhere:
        shop.faults.redirect_to = elsewhere.url + "wp-json/wc/v3/system_status"
        shop.faults.set_rate(1.0, ["redirect"])
        job = CliJob.create(tmp_path, shop, copernica)
        result = job.run("check")
        assert result.returncode == 2, describe(result)
        assert "redirects" in result.stderr
        assert elsewhere.requests == []


def _cms_client(base_url: str, deadline: float) -> CmsClient:
    return CmsClient(base_url, auth=authenticator(AuthConfig()), deadline=deadline,
                     retry=RetryPolicy(max_attempts=2, sleep=lambda _: None))


def test_a_cms_that_trickles_its_answer_fails_the_request_within_its_deadline() -> None:
    with FakeCms(trickle=True) as cms:
        client = _cms_client(cms.url, 1.0)
        started = time.monotonic()
        with pytest.raises(SourceUnavailableError, match="deadline"):
            client.request("GET", f"{cms.url}/api/single/contacts")
        assert time.monotonic() - started < 30


def test_a_cms_that_redirects_is_refused_and_the_redirect_target_gets_nothing() -> None:
    with RecordingServer() as elsewhere, FakeCms(auth="header",
                                                 redirect_to=elsewhere.url) as cms:
        client = CmsClient(cms.url, auth=authenticator(
            AuthConfig(type="api_key", name="X-API-Key", key="key-8d2e4b6a0c")))
        with pytest.raises(ConfigError, match="redirects"):
            client.request("GET", f"{cms.url}/api/single/contacts")
        assert elsewhere.requests == []


def test_the_deadline_covers_the_whole_body_not_each_read() -> None:
    import requests

    with HostileSoap("trickle", trickle_bytes=10, trickle_interval=0.05) as hostile:
        started = time.monotonic()
        with pytest.raises(http_deadline.DeadlineExceeded) as err:
            http_deadline.request(requests.Session(), "POST", hostile.url, data=b"x",
                                  timeout=(2, 5), deadline=1.0)
        assert time.monotonic() - started < 10
        assert err.value.received > 0


def test_a_usage_collector_that_trickles_its_answer_is_an_ambiguous_send_within_the_deadline(
) -> None:
    from copernica_sdk.licensing.ledger import UsageEvent
    from copernica_sdk.licensing.sinks import HttpCollectorSink, Outcome

    event = UsageEvent("cpe1_" + "0" * 40, "2025-05-01T00:00:00Z", "2025-05", "records_synced",
                       1, "orders", "i1", "shop.nl", "production", "acme-woo", "L1", "cus_1",
                       1, 0, "valid", "")
    with HostileSoap("trickle") as collector:
        sink = HttpCollectorSink(collector.url, timeout=5, deadline=1)
        started = time.monotonic()
        results = sink.send([event])
        assert time.monotonic() - started < 10
    assert [r.outcome for r in results] == [Outcome.AMBIGUOUS]  # resent later, deduplicated


@pytest.mark.slow  # the real command's retries back off for real: ~10-45 s
def test_a_cms_that_trickles_ends_check_and_run_with_exit_5_and_frees_the_lock(
        tmp_path: Path) -> None:
    from ..config_files import toml_text
    from ..connectors.cms_generic._helpers import preset, preset_source
    from .conftest import make_copernica

    with make_copernica() as copernica, FakeCms(5) as cms:
        job = CliJob(tmp_path, None, copernica, tmp_path / "copernica-sync.toml",  # type: ignore[arg-type]
                     tmp_path / "state" / "cms.sqlite3", {})
        tables = {
            "copernica": {"access_token": TOKEN, "endpoint": copernica.url, "timeout": 10},
            "source": preset_source("wordpress", base_url=cms.url, deadline=2,
                                    retry_attempts=2),
            "target": preset("wordpress")["target"],
            "sync": {"state_path": str(job.state_path)},
        }
        job.config.write_text(toml_text(tables), encoding="utf-8")
        applied = job.run("schema", "apply")
        assert applied.returncode == 0, describe(applied)
        cms.trickle = True
        for command in ("check", "run"):
            seconds, result = _timed(job, command)
            assert result.returncode == 5, describe(result)  # type: ignore[attr-defined,arg-type]
            assert "deadline" in result.stderr + result.stdout  # type: ignore[attr-defined]
            assert seconds < BOUND, f"{command} took {seconds:.0f} s"
        cms.trickle = False
        again = job.run("run")
        assert again.returncode == 0, describe(again)  # the lock was released: not 75
        assert len(copernica.profiles("Customers")) == 5


def test_a_usage_collector_never_has_its_events_redirected_and_no_answer_raises() -> None:
    """A sink must not raise for a delivery problem, and a 307 must not carry the
    events (and their licence ids) to another host: the batch stays queued."""
    from copernica_sdk.licensing.ledger import UsageEvent
    from copernica_sdk.licensing.sinks import HttpCollectorSink, Outcome

    event = UsageEvent("cpe1_" + "1" * 40, "2025-05-01T00:00:00Z", "2025-05", "records_synced",
                       1, "orders", "i1", "shop.nl", "production", "acme-woo", "L1", "cus_1",
                       1, 0, "valid", "")
    with HostileSoap("redirect") as collector:
        results = HttpCollectorSink(collector.url, timeout=5, deadline=5).send([event])
        assert collector.elsewhere.requests == []
        assert [r.outcome for r in results] == [Outcome.RETRY]
        assert "redirect" in results[0].detail and collector.elsewhere.url.split("//")[1] \
            .rstrip("/") in results[0].detail
        for mode in ("huge_announced", "html", "empty", "malformed"):
            collector.mode = mode
            results = HttpCollectorSink(collector.url, timeout=2, deadline=2).send([event])
            assert not results[0].outcome.delivered, mode

"""The scale-out settings and commands: config checks, ``status``, ``enqueue``,
``--help`` staying light, and the server fixtures' CI rule."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copernica_sdk.scale.schedule import last_tick
from copernica_sdk.sync.config import load_config
from copernica_sdk.sync.errors import ConfigError
from copernica_sdk.testing import servers

from ..config_files import toml_text
from ..reliability.conftest import CliJob, apply_schema, describe, make_copernica, make_shop
from .fleet import fleet, job_name

BASE = {"copernica": {"access_token": "t"}, "source": {"connector": "woocommerce",
        "url": "https://shop.example.com", "consumer_key": "ck_x", "consumer_secret": "cs_x"}}


def config_with(tmp_path: Path, **sync: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(toml_text({**BASE, "sync": sync}), encoding="utf-8")
    return path


def test_state_url_and_schedule_are_read_from_the_sync_table(tmp_path: Path) -> None:
    job = load_config(config_with(tmp_path, state_url="postgresql://u@db/x",
                                  schedule="*/10 * * * *")).job(None)
    assert (job.sync.state_url, job.sync.schedule) == ("postgresql://u@db/x", "*/10 * * * *")


@pytest.mark.parametrize(("sync", "message"), [
    ({"state_url": "mysql://db/x"}, "sync.state_url: expected a PostgreSQL URL"),
    ({"state_url": "postgresql://db/x", "state_path": "/tmp/s.sqlite3"}, "not both"),
    ({"schedule": "every ten minutes"}, "sync.schedule: 'every ten minutes' is not a cron"),
])
def test_bad_scale_settings_name_the_key_and_the_fix(tmp_path: Path, sync: dict[str, str],
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(config_with(tmp_path, **sync))


def test_the_state_url_is_a_secret_masked_in_config_show(tmp_path: Path) -> None:
    from copernica_sdk.sync.config import SECRET_KEYS

    assert "state_url" in SECRET_KEYS


def test_a_scheduled_run_belongs_to_the_latest_tick_of_its_cron_expression() -> None:
    now = datetime(2026, 1, 1, 12, 37, 5, tzinfo=UTC)
    assert last_tick("*/10 * * * *", now) == datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    assert last_tick("15 3 * * 1", now) == datetime(2025, 12, 29, 3, 15, tzinfo=UTC)  # a Monday
    assert last_tick("37 12 * * *", now) == datetime(2026, 1, 1, 12, 37, tzinfo=UTC)


def test_help_imports_none_of_the_scale_extra() -> None:
    code = ("import sys\nfrom copernica_sync.cli.main import main\nsys.argv=['x','--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('celery', 'kombu', 'redis', 'psycopg') if m in sys.modules]\n"
            "print('LOADED', bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout and "worker" in out.stdout


def test_a_missing_server_skips_outside_ci_and_fails_in_ci(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        servers._unavailable("no redis-server")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        servers._unavailable("no redis-server")


def test_status_lists_every_job_as_a_table_and_as_json(tmp_path: Path, postgres_url: str,
                                                       redis_url: str) -> None:
    with fleet(tmp_path, postgres_url, redis_url, shops=2) as f:
        job = CliJob(tmp_path, f.shops[0], f.fake, f.config, tmp_path / "unused", f.env)
        ran = job.run("run", "--job", job_name(0))
        assert ran.returncode == 0, describe(ran)
        table = job.run("status")
        assert table.returncode == 0, describe(table)
        lines = table.stdout.splitlines()
        assert lines[0].split()[:2] == ["JOB", "LAST"]
        first = next(line for line in lines if line.startswith(job_name(0))).split()
        assert first[1] == "1" and first[3] == "0" and int(first[4]) == f.records(0)
        assert next(line for line in lines if line.startswith(job_name(1))).split()[1] == "never"
        data = json.loads(job.run("status", "--json").stdout)["jobs"]
        assert [d["job"] for d in data] == [job_name(0), job_name(1)]
        assert data[0]["exit_code"] == 0 and data[0]["lag_seconds"] is not None
        assert data[0]["dead_letters"] == 0 and data[1]["last_run"] is None


def test_enqueue_queues_a_job_for_the_workers_and_waits_for_its_exit_code(
        tmp_path: Path, postgres_url: str, redis_url: str) -> None:
    with fleet(tmp_path, postgres_url, redis_url, shops=1) as f:
        f.worker("--name", "w1@%h")
        job = CliJob(tmp_path, f.shops[0], f.fake, f.config, tmp_path / "unused", f.env)
        done = job.run("enqueue", job_name(0), "--broker", redis_url, "--wait", "120")
        assert done.returncode == 0, describe(done)
        assert "queued as" in done.stdout and "exit 0" in done.stdout
        f.assert_exact(0)
        unknown = job.run("enqueue", "nope", "--broker", redis_url)
        assert unknown.returncode == 2, describe(unknown)


def test_status_reports_an_unreachable_state_without_a_traceback(tmp_path: Path) -> None:
    with make_shop(customers=1, orders=1) as shop, make_copernica() as fake:
        apply_schema(fake, shop)
        job = CliJob.create(tmp_path, shop, fake, extra={
            "sync": {"state_url": "postgresql://u:pw-S3CRET@127.0.0.1:1/x"}})
        out = job.run("status")
        assert out.returncode == 0, describe(out)
        assert "error" in out.stdout and "Traceback" not in out.stderr
        assert "pw-S3CRET" not in out.stdout + out.stderr

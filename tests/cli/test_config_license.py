"""``[license]`` is part of the one configuration model: ``check`` reports its problems
(exit 2, each with its full key) before reaching anything, and ``config show`` shows it."""

from __future__ import annotations

from pathlib import Path

from ..config_files import toml_text
from .conftest import Project, describe, ok


def test_check_reports_a_license_file_that_is_not_there(project: Project, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-license.txt"
    project.write(project.tables(license={"mode": "enforce", "file": str(missing)}))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "config: ok" not in result.output, describe(result)
    assert f"license.file: no such file {str(missing)!r}" in result.stderr, describe(result)
    assert "COPERNICA_PLUGIN_LICENSE" in result.stderr  # where else the value can come from
    assert "Traceback" not in result.output + result.stderr


def test_check_reports_a_license_file_that_is_a_directory_and_a_bad_export_dir(
        project: Project, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "exports.txt"
    not_a_dir.write_text("x", encoding="utf-8")
    project.write(project.tables(license={"file": str(tmp_path), "export_dir": str(not_a_dir)}))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    assert "license.file: " in result.stderr and "is not a file" in result.stderr
    assert "license.export_dir: " in result.stderr and "is not a directory" in result.stderr


def test_check_names_the_job_of_a_bad_license_table(project: Project, tmp_path: Path) -> None:
    tables = project.tables()
    text = toml_text({k: v for k, v in tables.items() if k != "source"}) + toml_text(
        {"jobs.shop1.source": tables["source"],
         "jobs.shop1.license": {"file": str(tmp_path / "gone.txt")}})
    project.write(text)
    result = project.invoke("check", "--job", "shop1")
    assert result.exit_code == 2, describe(result)
    assert "jobs.shop1.license.file: no such file" in result.stderr, describe(result)


def test_check_accepts_a_license_file_that_is_there_or_the_token_variable(
        project: Project, tmp_path: Path) -> None:
    missing = tmp_path / "later.txt"
    project.write(project.tables(license={"file": str(missing)}))
    # The variable holds the token: the file is not read, so it need not exist.
    result = ok(project.invoke("check", env={"COPERNICA_PLUGIN_LICENSE": "CPL1.x.y"}))
    assert "config: ok" in result.output


def test_check_reports_license_type_problems_with_the_rest(project: Project) -> None:
    project.write(project.tables(license={"mode": "strict", "trial_days": True},
                                 sync={"concurrency": 0}))
    result = project.invoke("check")
    assert result.exit_code == 2, describe(result)
    for line in ("license.mode: must be observe, warn or enforce, got text 'strict'",
                 "license.trial_days: must be a whole number of days from 0 to 3650, "
                 "got a boolean true",
                 "sync.concurrency: must be a whole number from 1 to 64"):
        assert line in result.stderr, describe(result)


def test_config_show_includes_the_license_table(project: Project, tmp_path: Path) -> None:
    license_file = tmp_path / "license.txt"
    project.write(project.tables(license={"mode": "enforce", "file": str(license_file),
                                          "trial_days": 14}))
    result = ok(project.invoke("config", "show",
                               env={"COPERNICA_SYNC__LICENSE__TRIAL_DAYS": "30"}))
    assert f"  license.mode = 'enforce'    ({project.config})" in result.stdout, describe(result)
    assert f"  license.file = {str(license_file)!r}    ({project.config})" in result.stdout
    assert "  license.trial_days = 30    (env:COPERNICA_SYNC__LICENSE__TRIAL_DAYS)" \
        in result.stdout, describe(result)


def test_config_show_shows_the_license_defaults(project: Project) -> None:
    result = ok(project.invoke("config", "show"))
    assert "  license.mode = 'warn'    (default)" in result.stdout, describe(result)
    assert "  license.trial_days = 0    (default)" in result.stdout, describe(result)

"""``python -m copernica_sdk.testing.fake_copernica`` serves until stopped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

import copernica_sdk.testing.fake_copernica as package

PROJECT_ROOT = Path(package.__file__).resolve().parents[3]


def test_module_cli_prints_its_url_and_serves_the_wsdl() -> None:
    env = dict(os.environ)
    # Works whether or not copernica-sdk is installed into the interpreter.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "copernica_sdk.testing.fake_copernica",
            "--port",
            "0",
            "--token",
            "cli-token",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", lines[0])
        assert match, lines
        url = match.group(1)
        assert f"{url}?SOAPAPI=WSDL" in lines[1]
        assert "cli-token" in lines[2]
        response = requests.get(url + "?SOAPAPI=WSDL", timeout=10)
        assert response.status_code == 200
        assert b"POM_SOAP_API" in response.content
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0

"""``genstore-sandbox keys generate``: a pair an app registers and decrypts with, and the
README's registration example, run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sandbox.core import crypto
from tests.conftest import ROOT
from tests.e2e.test_cli import run


def test_a_generated_pair_registers_and_decrypts_what_the_platform_encrypts(tmp_path):
    made = run("keys", "generate", "--out", str(tmp_path / "keys"), "--json")
    assert made.returncode == 0, made.stderr
    answer = json.loads(made.stdout)
    private = Path(answer["files"]["private"])
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    assert Path(answer["files"]["public_b64"]).read_text().strip() == answer["publicKey"]
    assert "BEGIN PUBLIC KEY" in Path(answer["files"]["public"]).read_text()
    # What the platform sends, encrypted to the public half, opens with the private half
    # read as docs/encryption.md reads it (PKCS#8 PEM).
    card = {"pan": "4242424242424242", "month": 12, "year": 2030, "verificationValue": "123",
            "fullName": "John Smith"}  # fmt: skip
    data = crypto.encrypt_card(card, answer["publicKey"])
    assert crypto.decrypt_card(data, private.read_text()) == card
    # An existing key is never replaced by accident.
    again = run("keys", "generate", "--out", str(tmp_path / "keys"))
    assert again.returncode == 1 and "not replaced" in again.stderr
    assert Path(answer["files"]["public_b64"]).read_text().strip() == answer["publicKey"]
    printed = run("keys", "generate")
    assert printed.returncode == 0 and "BEGIN PRIVATE KEY" in printed.stdout


def test_the_readme_registration_example_runs_as_written(live, tmp_path):
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- register-example -->\n```sh\n(.*?)```", text, re.S)
    assert block, "the README lost its registration example"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SANDBOX": live.url,
    }
    job = subprocess.run(
        ["bash", "-e", "-c", block.group(1)], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert job.returncode == 0, job.stdout + job.stderr
    registered = json.loads(job.stdout.strip().splitlines()[-1])
    assert registered["name"] == "my-app" and registered["accessToken"]
    apps = live.control("GET", "/shops/demo").json()["apps"]
    assert "my-app" in {app["name"] for app in apps}

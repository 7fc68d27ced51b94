"""The ready-to-copy CI files (docs/ci/) run as their CI systems would run them: every step
that is a script, in order, the stop step even after a failure, against an app of its own
registered from the README's app config."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.e2e.app_under_test import AppUnderTest
from tests.e2e.test_verify import _readme_block

pytestmark = pytest.mark.e2e
YOUR_APP = "start-app.sh"  # the step that starts the user's app: here the test starts one


def _environment(job_env: dict[str, str], port: int) -> dict[str, str]:
    return {
        **os.environ,
        **job_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SANDBOX_PORT": str(port),
        # The package is installed here already: the install step finds it satisfied (and,
        # dry run, would not touch this venv anyway). The files take a path or a wheel.
        "GENSTORE_SANDBOX": "genstore-sandbox",
        "PIP_DRY_RUN": "1",
    }


def _prepared(cwd: Path, app: AppUnderTest) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    block = _readme_block("app-config-example", "yaml")
    (cwd / "app.yaml").write_text(block.replace("http://127.0.0.1:5000", app.url))
    (cwd / "app-public.b64").write_text(app.public_key)


def _app(port: int) -> AppUnderTest:
    config = yaml.safe_load(_readme_block("app-config-example", "yaml"))
    origin = "http://127.0.0.1:5000"
    paths = {kind: url.removeprefix(origin) for kind, url in config["urls"].items()}
    return AppUnderTest(
        f"http://127.0.0.1:{port}", config["accessToken"], seed_strict=True, paths=paths
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(script: str, cwd: Path, env: dict[str, str]) -> int:
    """One step in a shell of its own; what it starts in the background lives on, as on a
    CI runner, until the job's stop step (or :func:`_cleaned_up`) ends it."""
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, timeout=180).returncode


@contextlib.contextmanager
def _cleaned_up(cwd: Path):
    """Whatever the job left running, ended once the test is done (a failed job's sandbox)."""
    try:
        yield
    finally:
        pid_file = cwd / "sandbox.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def _stopped(cwd: Path) -> bool:
    """Whether the sandbox the job started has ended (it is given a graceful stop's time)."""
    pid = int((cwd / "sandbox.pid").read_text())
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)  # a graceful stop in progress: poll the process, not the clock
    return False


def _assert_verified(cwd: Path) -> None:
    suite = ET.parse(cwd / "verify.xml").getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) > 20


def _github(cwd: Path) -> None:
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    job = workflow["jobs"]["verify"]
    port = _free_port()
    env = _environment(job.get("env", {}), port)
    with _cleaned_up(cwd), _app(port) as app:
        _prepared(cwd, app)
        failed: str | bool = False
        for step in job["steps"]:
            if "run" not in step or YOUR_APP in step["run"]:
                continue  # actions (checkout, setup-python, upload) and the user's own app
            if failed and "always()" not in str(step.get("if", "")):
                continue
            if _run(step["run"], cwd, env) != 0 and not failed:
                failed = step["name"]
        assert not failed, f"{failed} failed"
    _assert_verified(cwd)
    assert _stopped(cwd)


def _gitlab(cwd: Path) -> None:
    job = yaml.safe_load((ROOT / "docs" / "ci" / "gitlab-ci.yml").read_text())
    job = job["genstore-contract"]
    port = _free_port()
    env = _environment(job.get("variables", {}), port)
    with _cleaned_up(cwd), _app(port) as app:
        _prepared(cwd, app)
        script = "\n".join(line for line in job["script"] if YOUR_APP not in line)
        status = _run(script, cwd, env)
        _run("\n".join(job["after_script"]), cwd, env)
        assert status == 0, (cwd / "sandbox.log").read_text()[-3000:]
    _assert_verified(cwd)
    assert job["artifacts"]["reports"]["junit"] == "verify.xml"
    assert _stopped(cwd)


def test_the_github_actions_and_gitlab_ci_jobs_run(tmp_path):
    """Both files side by side (each job mostly waits on its own sandbox and app)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(run, tmp_path / name) for name, run in
                (("github", _github), ("gitlab", _gitlab))]  # fmt: skip
        for job in jobs:
            job.result()  # a failed assertion in either job fails the test

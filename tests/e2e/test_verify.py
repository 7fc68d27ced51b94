"""``genstore-sandbox verify``: the built-in fake app passes every case; an app broken on
purpose fails exactly the cases its break breaks, and no others."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from sandbox.conformance import runner
from sandbox.conformance.cases import CASES
from sandbox.testing.live import Sandbox
from tests.conftest import ROOT
from tests.e2e.app_under_test import AppUnderTest
from tests.e2e.test_cli import run

ALL = {case.name for case in CASES}
RESULT_CASES = ALL - {"account_authorize_reported"}
# Each break, and the cases it must fail (every other case must pass).
BREAKS = {
    "wrong_amount": {"ids_and_amounts_echoed"},
    "double_charge": {"same_request_twice"},
    "no_callbacks": RESULT_CASES,
    "no_retry_after_5xx": {"callbacks_retried_after_5xx"},
    "missing_field": {"required_answer_fields"},
    "ignores_manual_capture": {"authorize_then_full_capture"},
    "no_get_payment": {"status_queries_agree"},
}


def test_the_built_in_fake_app_passes_every_case(live, tmp_path):
    report = tmp_path / "report.xml"
    result = run("verify", "--url", live.url, "--junit-xml", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CASES)} passed, 0 failed, 0 skipped" in result.stdout
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == (str(len(CASES)), "0")
    assert {case.get("name") for case in suite.iter("testcase")} == ALL


def test_list_only_and_json(live):
    listing = run("verify", "--list")
    assert listing.returncode == 0 and all(name in listing.stdout for name in ALL)
    only = run("verify", "--url", live.url, "--only", "full_refund,partial_refund", "--json")
    assert only.returncode == 0, only.stderr
    cases = json.loads(only.stdout)["cases"]
    assert [(c["name"], c["result"]) for c in cases] == [
        ("full_refund", "pass"),
        ("partial_refund", "pass"),
    ]
    assert run("verify", "--only", "nope").returncode == 2
    verbose = run("verify", "--url", live.url, "--only", "full_refund", "--verbose")
    assert (
        "PASS  full_refund" in verbose.stdout and "<- PUT /api/202412/app/refund/" in verbose.stdout
    )


def _verify(live, breaks: frozenset[str], token: str, cases=CASES) -> dict[str, str]:
    # An app that never calls back fails every result case on the time bound: keep it short
    # there; the others fail one case each, so a generous bound costs little.
    timeout = 1.0 if "no_callbacks" in breaks else 3.0
    with AppUnderTest(live.url, token, breaks) as app:
        target = runner.Target(
            app="under-test", app_url=app.url, public_key=app.public_key, access_token=token
        )
        ctx = runner.prepare(Sandbox(live.url), target, None)
        outcomes = runner.run(ctx, list(cases), timeout=timeout)
    return {o.name: f"{o.result}: {o.reason}" if o.reason else o.result for o in outcomes}


def test_a_broken_app_fails_exactly_the_cases_it_breaks(live):
    """Every break (and the app unbroken) verified side by side, each in a shop of its own;
    the app that never calls back case by case, since each of its cases waits out the bound."""
    runs = [("none", frozenset(), CASES)]
    runs += [(name, frozenset({name}), CASES) for name in BREAKS if name != "no_callbacks"]
    runs += [(f"no_callbacks/{case.name}", frozenset({"no_callbacks"}), (case,)) for case in CASES]
    results: dict[str, dict[str, str]] = {}

    def verify(label: str, breaks: frozenset[str], cases) -> None:
        token = "tok-under-test-" + label.replace("/", "-")
        results[label] = _verify(live, breaks, token, cases)

    threads = [threading.Thread(target=verify, args=run_) for run_ in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {label for label, _, _ in runs}
    merged = {
        name: outcome
        for label, outcomes in results.items()
        if label.startswith("no_callbacks/")
        for name, outcome in outcomes.items()
    }
    results["no_callbacks"] = merged
    assert {n: r for n, r in results["none"].items() if r != "pass"} == {}
    for name, expected in BREAKS.items():
        failed = {case: result for case, result in results[name].items() if result != "pass"}
        assert set(failed) == expected, f"{name}: {failed}"


def test_a_failing_case_says_why_and_shows_the_journal(live, tmp_path):
    with AppUnderTest(live.url, "tok-under-test-cli", frozenset({"no_get_payment"})) as app:
        result = run(
            "verify", "--url", live.url, "--app-url", app.url, "--public-key", app.public_key,
            "--access-token", "tok-under-test-cli", "--only", "status_queries_agree",
            "--junit-xml", str(tmp_path / "r.xml"),
        )  # fmt: skip
    assert result.returncode == 1
    assert "FAIL  status_queries_agree: get_payment answered HTTP 404" in result.stdout
    assert "-> POST /refunds 200" in result.stdout  # the journal excerpt
    failure = ET.parse(tmp_path / "r.xml").getroot().find("testcase/failure")
    assert failure is not None and "HTTP 404" in failure.get("message", "")


def _ci_example() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- ci-example -->\n```sh\n(.*?)```", text, re.S)
    assert match, "the README lost its CI example"
    return match.group(1)


def test_the_readme_ci_job_runs_as_written(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "tok-ci-example-app"
    with AppUnderTest(f"http://127.0.0.1:{port}", token) as app:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            # The package is installed here already: the install line finds it satisfied
            # (and, dry run, would not touch this venv anyway).
            "PIP_DRY_RUN": "1",
            "SANDBOX_PORT": str(port),
            "APP_URL": app.url,
            "APP_PUBLIC_KEY": app.public_key,
            "APP_TOKEN": token,
        }
        log = tmp_path / "job.log"
        with log.open("w") as out:
            job = subprocess.Popen(
                ["bash", "-e", "-c", _ci_example()],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                job.wait(timeout=180)
            finally:
                with contextlib.suppress(ProcessLookupError):  # the sandbox in the background
                    os.killpg(job.pid, signal.SIGTERM)
        output = log.read_text()
    assert job.returncode == 0, output
    assert f"{len(CASES)} passed, 0 failed" in output
    suite = ET.parse(tmp_path / "verify.xml").getroot()
    assert suite.get("failures") == "0" and suite.get("tests") == str(len(CASES))

"""Fixtures for the deploy tests: the packaged app (built once per test session) and its template."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


PACKAGING_FIXTURES = {"packaged", "transformed"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the built package (pip, cfn-lint, the SAM transform) is in the `packaging` suite."""
    for item in items:
        if PACKAGING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.packaging)


def make_package_command(out: Path) -> list[str]:
    """The command of the Makefile's `package` target, with the output directory swapped."""
    text = (ROOT / "Makefile").read_text()
    m = re.search(r"^package:[^\n]*\n\t([^\n]+)", text, re.MULTILINE)
    assert m, "Makefile has no package target"
    line = m.group(1).replace("$(BIN)/python", sys.executable)
    assert "build/package" in line, line
    return shlex.split(line.replace("build/package", str(out)))


@dataclass
class Packaged:
    out: Path
    template_path: Path
    zip_path: Path
    template: dict[str, Any]
    report: dict[str, Any]
    seconds: float

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Packaged:
    """`make package` into a temporary directory (about 10-60 s: pip resolves the Lambda wheels)."""
    import time

    out = tmp_path_factory.mktemp("package") / "out"
    t0 = time.monotonic()
    proc = subprocess.run(make_package_command(out), cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    template_path, zip_path = out / "sam.yaml", out / "deployment.zip"
    return Packaged(out, template_path, zip_path, yaml.safe_load(template_path.read_text()),
                    json.loads((out / "package-report.json").read_text()), time.monotonic() - t0)


@pytest.fixture(scope="session")
def transformed(packaged, tmp_path_factory) -> dict[str, Any]:
    """The template after the SAM transform (what CloudFormation really creates), offline."""
    import os

    from samtranslator.translator.transform import transform

    class NoManagedPolicies:  # the template names no managed policies
        def load(self) -> dict[str, str]:
            return {}

    tpl = json.loads(json.dumps(packaged.template))
    for res in tpl["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = {"Bucket": "artifacts", "Key": "code/deployment.zip"}
    old = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
    try:
        return transform(tpl, {}, NoManagedPolicies())
    finally:
        if old is not None:
            os.environ["AWS_DEFAULT_REGION"] = old


@pytest.fixture
def env(aws, monkeypatch):
    """The handlers' AWS environment on moto: queue, buckets, SSM key (see handler_support)."""
    from chalicelib import config
    from chalicelib.llm.settings import clear_ssm_cache
    from tests.unit.deploy.handler_support import setup_aws_env

    clear_ssm_cache()
    yield setup_aws_env(monkeypatch)
    clear_ssm_cache()
    monkeypatch.undo()
    config.reset()

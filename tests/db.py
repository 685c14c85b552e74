"""How a test reaches the database it runs on from another connection or
process: a server on a port, or the embedded one on a Unix socket
(bin/services.py), whose directory Django keeps in OPTIONS["host"]."""

from urllib.parse import quote

from django.db import connection


def conninfo(dbname: str | None = None) -> dict:
    """psycopg.connect keyword arguments (libpq reads a path as a socket directory)."""
    s = connection.settings_dict
    return {"host": s.get("OPTIONS", {}).get("host") or s["HOST"] or "127.0.0.1", "port": str(s["PORT"] or 5432),
            "user": s["USER"], "password": s["PASSWORD"] or "", "dbname": dbname or s["NAME"]}


def database_url(dbname: str | None = None) -> str:
    """A DATABASE_URL for a child process."""
    info = conninfo(dbname)
    if info["host"].startswith("/"):
        return f"postgres://{info['user']}@/{info['dbname']}?host={quote(info['host'])}"
    return f"postgres://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"

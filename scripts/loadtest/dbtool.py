"""Small PostgreSQL helpers for make serve and the load test: `dbtool.py ensure URL` creates the database if missing."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "ensure":
        sys.exit("usage: dbtool.py ensure postgres://USER@HOST:PORT/NAME")
    ensure_database(sys.argv[2])

"""make backup / make restore (scripts/backup.sh): a seeded database comes back whole."""

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from booking.models import Booking
from payments.models import Payment

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHECKSUMMED = ["booking_booking", "payments_payment", "payments_refund"]


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _fingerprint(url: str) -> dict:
    """Every table's row count, and an md5 over every row (in id order) of bookings and payments."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        sums = {t: conn.execute(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) FROM \"{t}\" x")
                .fetchone()[0] for t in CHECKSUMMED}
    return {"counts": counts, "checksums": sums}


@pytest.fixture
def restore_db():
    name = connection.settings_dict["NAME"] + "_restore"
    admin = _url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump not installed")
def test_a_backup_of_a_seeded_database_restores_every_row_into_a_new_database(tmp_path, restore_db):
    call_command("demo_data", force=True, verbosity=0)
    assert Booking.objects.count() > 20 and Payment.objects.exists()
    source = _url(connection.settings_dict["NAME"])
    before = _fingerprint(source)

    backup = subprocess.run([str(ROOT / "scripts/backup.sh"), "backup", source, str(tmp_path)],
                            check=True, capture_output=True, text=True)
    dump = Path(backup.stdout.strip())
    assert dump.parent == tmp_path and dump.name.startswith("physiobook-") and dump.suffix == ".dump"
    subprocess.run([str(ROOT / "scripts/backup.sh"), "restore", restore_db, str(dump)],
                   check=True, capture_output=True, text=True)

    after = _fingerprint(restore_db)
    assert after["counts"] == before["counts"]
    assert after["checksums"] == before["checksums"]
    assert before["counts"]["booking_booking"] == Booking.objects.count()
    assert len(before["counts"]) > 20  # every table, Django's and ours


def test_restore_refuses_a_missing_file(restore_db, tmp_path):
    result = subprocess.run([str(ROOT / "scripts/backup.sh"), "restore", restore_db, str(tmp_path / "nope.dump")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such backup file" in result.stderr

"""Backup and restore (docs/operations.md): a real pg_dump of the test database restored with
pg_restore into a scratch database of a unique name, and the restore drill run against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.models.register import Register, RegisterVersion
from risk_registry.workflow.snapshots import content_hash, register_snapshot

BASE_DIR = Path(__file__).resolve().parent.parent


def file_a_version(world) -> RegisterVersion:
    register = Register.objects.create(institution=world.a, year=2026)
    points = RiskPoint.objects.filter(institution=world.a, year=2026).exclude(state=RiskPointState.DRAFT)
    snapshot = register_snapshot(institution=world.a, year=2026, points=points)
    return RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=timezone.now(),
        filed_with=world.county,
    )


def pg(*command: str, database: str | None = None) -> subprocess.CompletedProcess:
    """A PostgreSQL client program against the test server (the test database's host and user)."""
    db = connection.settings_dict
    options = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    args = [command[0], *options, *command[1:]] + ([database] if database else [])
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def drill(database: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{database}",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore_drill"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_the_drill_passes_on_intact_filed_versions(world, capsys):
    file_a_version(world)
    call_command("restore_drill")
    assert "1 filed versions, every SHA-256 matches" in capsys.readouterr().out


@pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"), reason="PostgreSQL clients")
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_restored_into_a_scratch_database_passes_the_drill_and_tampering_fails_it(world, tmp_path):
    version = file_a_version(world)
    dump = tmp_path / "risk-registry.dump"
    scratch = f"rr_restore_drill_{uuid.uuid4().hex[:12]}"
    result = pg("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", database=connection.settings_dict["NAME"])
    assert result.returncode == 0, result.stderr
    assert pg("createdb", database=scratch).returncode == 0
    try:
        result = pg("pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch}", str(dump))
        assert result.returncode == 0, result.stderr

        counted = pg("psql", "-tA", "-c", "SELECT count(*) FROM risk_registry_riskpoint", database=scratch)
        assert int(counted.stdout) == RiskPoint.objects.count()
        passed = drill(scratch)
        assert passed.returncode == 0, passed.stdout + passed.stderr
        assert "restore drill passed: 1 filed versions" in passed.stdout

        # A restored filed version that no longer matches its hash (someone had to switch the
        # database's protection off first) fails the drill, naming the version.
        tamper = (
            "ALTER TABLE risk_registry_registerversion DISABLE TRIGGER risk_registry_version_frozen; "
            "UPDATE risk_registry_registerversion SET snapshot = jsonb_set(snapshot, '{year}', '1999');"
        )
        assert pg("psql", "-v", "ON_ERROR_STOP=1", "-c", tamper, database=scratch).returncode == 0
        failed = drill(scratch)
        assert failed.returncode != 0
        assert f"MISMATCH bureau-a 2026 v1 (id {version.pk})" in failed.stderr
        assert "not write-protected" in failed.stderr
    finally:
        dropped = pg("dropdb", "--if-exists", "--force", database=scratch)
        assert dropped.returncode == 0, dropped.stderr

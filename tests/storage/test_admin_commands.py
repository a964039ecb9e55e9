"""Operator commands: projects, keys (secret shown once, only its hash stored) and quotas."""

from __future__ import annotations

import io

import psycopg
import pytest

from services.storage.admin import main
from services.storage.config import StorageConfig
from shared.apikeys import hash_key


def run(config: StorageConfig, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), config, out)
    return status, out.getvalue()


def field(output: str, label: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(label)).split(": ", 1)[1]


def test_keys_are_created_listed_and_revoked(database_url: str) -> None:
    config = StorageConfig(database_url=database_url, redis_url="", key_pepper="pepper")
    assert run(config, "projects", "create", "alpha", "--name", "Alpha") == (
        0, "project alpha created\n"
    )  # fmt: skip
    assert run(config, "projects", "create", "alpha")[1] == "project alpha exists\n"
    status, output = run(config, "keys", "create", "--project", "alpha", "--scopes", "ingest,read")
    assert status == 0
    key_id, secret = field(output, "key_id"), field(output, "api key")
    status, output = run(config, "keys", "create", "--project", "alpha", "--langfuse")
    public_key, secret_key = field(output, "public key"), field(output, "secret key")
    assert public_key.startswith("pk-lf-") and secret_key.startswith("sk-lf-")
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT key_hash, display_id, scopes FROM api_keys ORDER BY created_at"
        ).fetchall()
    assert [bytes(row[0]) for row in rows] == [
        hash_key(secret, "pepper"), hash_key(secret_key, "pepper")
    ]  # fmt: skip
    assert rows[0][1] == secret[:11] and rows[1][1] == public_key
    assert rows[0][2] == ["ingest", "read"] and rows[1][2] == ["ingest"]
    listing = run(config, "keys", "list", "--project", "alpha")[1]
    assert secret not in listing and secret_key not in listing
    assert f"{key_id}  alpha  {secret[:11]}  ingest,read  active" in listing
    assert run(config, "keys", "revoke", key_id) == (0, f"key {key_id} revoked\n")
    assert f"{key_id}  alpha  {secret[:11]}  ingest,read  revoked" in run(config, "keys", "list")[1]
    assert run(config, "keys", "revoke", "not-a-uuid")[0] == 1


def test_bad_input_is_refused(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = StorageConfig(database_url=database_url, redis_url="")
    assert run(config, "keys", "create", "--project", "nope")[0] == 1
    assert "api_keys_project_id_fkey" in capsys.readouterr().err
    assert run(config, "keys", "create", "--project", "default", "--scopes", "write")[0] == 1
    assert "unknown scope(s) write" in capsys.readouterr().err


def test_quotas_are_set_and_replaced(database_url: str) -> None:
    config = StorageConfig(database_url=database_url, redis_url="")
    assert run(config, "quotas", "set", "default", "--spans-per-second", "50")[0] == 0
    assert run(config, "quotas", "set", "default", "--requests-per-second", "5")[0] == 0
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT requests_per_second, spans_per_second FROM project_quotas"
        ).fetchone()
    assert row == (5, None)

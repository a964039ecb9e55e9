"""Operator commands: `python -m services.storage projects|keys|quotas ...` against DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

import psycopg

from services.storage.config import StorageConfig
from shared.apikeys import SCOPE_INGEST, SCOPES, generate_key, generate_langfuse_pair
from shared.keystore import create_key, list_keys, revoke_key

COMMANDS = ("projects", "keys", "quotas")

_CREATE_PROJECT = """
INSERT INTO projects (project_id, name) VALUES (%s, %s)
ON CONFLICT (project_id) DO NOTHING RETURNING project_id
"""
_SET_QUOTA = """
INSERT INTO project_quotas (project_id, requests_per_second, spans_per_second)
VALUES (%s, %s, %s)
ON CONFLICT (project_id) DO UPDATE SET
    requests_per_second = excluded.requests_per_second,
    spans_per_second = excluded.spans_per_second,
    updated_at = now()
"""


def build_parser() -> argparse.ArgumentParser:
    """The command line of the operator commands."""
    parser = argparse.ArgumentParser(prog="python -m services.storage", description=__doc__)
    groups = parser.add_subparsers(dest="group", required=True)
    projects = groups.add_parser("projects").add_subparsers(dest="action", required=True)
    create_project = projects.add_parser("create", help="create a project (idempotent)")
    create_project.add_argument("project_id")
    create_project.add_argument("--name", default="")
    keys = groups.add_parser("keys").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="create a key; its secret is printed once")
    create.add_argument("--project", required=True)
    create.add_argument("--name", default="")
    create.add_argument(
        "--scopes", default=SCOPE_INGEST, help=f"comma-separated, of {', '.join(SCOPES)}"
    )
    create.add_argument(
        "--langfuse", action="store_true", help="a Langfuse pair (pk-lf-... / sk-lf-...)"
    )
    listing = keys.add_parser("list", help="list keys without their secrets")
    listing.add_argument("--project")
    revoke = keys.add_parser("revoke", help="revoke a key by its key_id")
    revoke.add_argument("key_id")
    quotas = groups.add_parser("quotas").add_subparsers(dest="action", required=True)
    quota = quotas.add_parser("set", help="override the default ingest rates of a project")
    quota.add_argument("project_id")
    quota.add_argument("--requests-per-second", type=int, help="0: unlimited; omitted: default")
    quota.add_argument("--spans-per-second", type=int, help="0: unlimited; omitted: default")
    return parser


def main(argv: list[str], config: StorageConfig, out: TextIO = sys.stdout) -> int:
    """Run one operator command; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args, config, out))
    except (ValueError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, config: StorageConfig, out: TextIO) -> int:
    async with await psycopg.AsyncConnection.connect(config.database_url, autocommit=True) as conn:
        if args.group == "projects":
            created = await (await conn.execute(
                _CREATE_PROJECT, (args.project_id, args.name or args.project_id)
            )).fetchone()  # fmt: skip
            print(f"project {args.project_id} {'created' if created else 'exists'}", file=out)
            return 0
        if args.group == "quotas":
            await conn.execute(
                _SET_QUOTA, (args.project_id, args.requests_per_second, args.spans_per_second)
            )
            print(f"quotas of {args.project_id} set", file=out)
            return 0
        return await _run_keys(conn, args, config, out)


async def _run_keys(
    conn: psycopg.AsyncConnection[Any], args: argparse.Namespace, config: StorageConfig,
    out: TextIO,
) -> int:  # fmt: skip
    if args.action == "create":
        new_key = generate_langfuse_pair() if args.langfuse else generate_key()
        scopes = tuple(scope.strip() for scope in args.scopes.split(",") if scope.strip())
        key_id = await create_key(conn, new_key, args.project, args.name, scopes, config.key_pepper)
        print(f"key_id: {key_id}", file=out)
        if args.langfuse:
            print(f"public key (LANGFUSE_PUBLIC_KEY): {new_key.display_id}", file=out)
            print(f"secret key (LANGFUSE_SECRET_KEY): {new_key.secret}", file=out)
        else:
            print(f"api key: {new_key.secret}", file=out)
        print("The secret is shown only now; store it safely.", file=out)
        return 0
    if args.action == "revoke":
        if not await revoke_key(conn, args.key_id):
            print(f"error: no key {args.key_id}", file=sys.stderr)
            return 1
        print(f"key {args.key_id} revoked", file=out)
        return 0
    for key in await list_keys(conn, args.project):
        state = "revoked" if key["revoked_at"] else "active"
        print(
            f"{key['key_id']}  {key['project_id']}  {key['display_id']}  "
            f"{','.join(key['scopes'])}  {state}  {key['name']}",
            file=out,
        )
    return 0

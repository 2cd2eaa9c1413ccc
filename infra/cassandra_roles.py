"""Cassandra's logins for the local stack (run by infra/stack.sh once CQL is up): the
`cassandra` superuser gets the generated admin password instead of its well-known
default, and Podium's role gets its own password and rights on every keyspace.
Idempotent; the passwords come from the stack's secrets file, never from argv.

    python infra/cassandra_roles.py var/secrets.toml
    python infra/cassandra_roles.py --check var/secrets.toml   (what `stack status` shows)
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from pathlib import Path

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable, Session

HOST, PORT = "127.0.0.1", 9042
DEFAULT_SUPERUSER = ("cassandra", "cassandra")  # what Cassandra makes on its first start
WAIT_S = 90.0  # the default superuser appears a moment after CQL opens


def login(user: str, password: str) -> tuple[Cluster, Session]:
    cluster = Cluster([HOST], port=PORT, protocol_version=4, auth_provider=PlainTextAuthProvider(user, password))
    try:
        return cluster, cluster.connect()
    except BaseException:
        cluster.shutdown()
        raise


def refused(exc: NoHostAvailable) -> bool:
    """Whether the login was refused. The driver names a reason per host only when its first
    connection failed; when a later one did (a login Cassandra's credentials cache let
    through once, then refused) it gives bare host names: not known to be a refusal."""
    errors = exc.errors.values() if isinstance(exc.errors, dict) else []
    return any(isinstance(e, AuthenticationFailed) for e in errors)


def superuser(admin_password: str) -> tuple[Cluster, Session]:
    """A superuser session: with the admin password, or with the default one, which is then replaced."""
    deadline = time.monotonic() + WAIT_S
    while True:
        for user, password in (("cassandra", admin_password), DEFAULT_SUPERUSER):
            try:
                cluster, session = login(user, password)
            except NoHostAvailable:
                # Refused, or not answering yet: the other password, then again until the deadline.
                if time.monotonic() > deadline:
                    raise SystemExit(f"cassandra_roles: cannot log in as the superuser at {HOST}:{PORT}") from None
                continue
            # Set either way: Cassandra caches credentials for a moment, so a login with the
            # admin password may still pass just after the password went back to the default.
            session.execute(f"ALTER ROLE cassandra WITH PASSWORD = '{admin_password}'")
            if password != admin_password:
                print("cassandra_roles: the cassandra superuser's default password replaced", flush=True)
            return cluster, session
        time.sleep(1.0)


def main(secrets_file: Path) -> None:
    secrets = tomllib.loads(secrets_file.read_text())
    user, password = secrets["cassandra_username"], secrets["cassandra_password"]
    admin_password = secrets["cassandra_admin_password"]
    for value in (user, password, admin_password):
        # They are written into CQL below (role statements take no bind markers).
        if not re.fullmatch(r"[A-Za-z0-9_]+", value):
            raise SystemExit(f"cassandra_roles: {secrets_file}: names and passwords must be letters, digits or _")
    cluster, session = superuser(admin_password)
    try:
        session.execute(f"CREATE ROLE IF NOT EXISTS {user} WITH LOGIN = true AND PASSWORD = '{password}'")
        session.execute(f"ALTER ROLE {user} WITH PASSWORD = '{password}'")  # a rotated password
        session.execute(f"GRANT ALL PERMISSIONS ON ALL KEYSPACES TO {user}")
    finally:
        cluster.shutdown()
    # Cassandra caches a role's credentials for a moment (credentials_validity): a password
    # just set back may still be refused. The next step (the schema) logs in as Podium at
    # once, so this one ends only when that login works.
    deadline = time.monotonic() + WAIT_S
    while not can_log_in(user, password):
        if time.monotonic() > deadline:
            raise SystemExit(f"cassandra_roles: {user} still cannot log in {WAIT_S:.0f} s after its password was set")
        time.sleep(0.5)


def can_log_in(user: str, password: str) -> bool:
    try:
        cluster, _ = login(user, password)
    except NoHostAvailable:
        return False
    cluster.shutdown()
    return True


def check(secrets_file: Path) -> str:
    """One line on what `up` would still have to do: Podium's login, its keyspace."""
    secrets = tomllib.loads(secrets_file.read_text())
    try:
        cluster, session = login(secrets["cassandra_username"], secrets["cassandra_password"])
    except NoHostAvailable as exc:
        if refused(exc):
            return "logins: Podium's role cannot log in (run: podium stack up)"
        return "logins: CQL not answering yet"
    try:
        found = session.execute("SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = 'podium'")
        schema = "schema: present" if found.one() is not None else "schema: missing (run: podium stack up)"
    finally:
        cluster.shutdown()
    return f"logins: ok; {schema}"


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        print(check(Path(sys.argv[2])))
    else:
        main(Path(sys.argv[1]))

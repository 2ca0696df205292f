#!/usr/bin/env python3
"""Entrypoint of the synapse and synapse-setup services in docker-compose.yml.

Runs as root in the matrixdotorg/synapse image (which has Python but no envsubst). Synapse reads
its YAML literally, without expanding environment variables, so:

  run (default)   render the templates in /config (deploy/synapse/) into /run/synapse, replacing
                  each ${NAME} with that environment variable (refusing to start when one is
                  unset), then hand over to the image's /start.py, which drops to uid 991.
  register-admin  create the server admin the worker logs in as, through the shared-secret
                  registration API of the running homeserver; a no-op when it already exists,
                  and when MATRIX_IDENTITY_MODE=appservice (that mode uses no admin).

The appservice's user namespace is exclusive in appservice mode (nobody else may register an id
the service acts as) and not in admin mode (Synapse refuses Admin-API user creation inside an
exclusive namespace): MATRIX_USERS_EXCLUSIVE, derived here from MATRIX_IDENTITY_MODE.
"""
import json
import os
import re
import sys
from typing import NoReturn

CONFIG = "/config"
OUT = "/run/synapse"
TEMPLATES = ("homeserver.yaml", "appservice.yaml")
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# The image's start.py runs Synapse as UID:GID (default 991:991); it must own what it reads/writes.
UID = int(os.environ.get("UID", "991"))
GID = int(os.environ.get("GID", "991"))


def fail(message: str) -> NoReturn:
    sys.exit(f"synapse entrypoint: {message}")


def env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        fail(f"{name} is not set")
    return value


def yaml_safe(name: str) -> str:
    value = env(name)
    # Values land inside double-quoted YAML strings: refuse anything that would need escaping.
    if any(c in '"\\' or ord(c) < 0x20 for c in value):
        fail(f"{name} must not contain quotes, backslashes or control characters")
    return value


def write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chown(path, UID, GID)


def render(name: str) -> None:
    out = []
    with open(f"{CONFIG}/{name}", encoding="utf-8") as f:
        for line in f:
            # Comments may mention ${NAME} without it being a placeholder.
            if not line.lstrip().startswith("#"):
                line = PLACEHOLDER.sub(lambda m: yaml_safe(m.group(1)), line)
            out.append(line)
    write_private(f"{OUT}/{name}", "".join(out))


def identity_mode() -> str:
    mode = os.environ.get("MATRIX_IDENTITY_MODE", "") or "admin"
    if mode not in ("admin", "appservice"):
        fail(f"MATRIX_IDENTITY_MODE must be admin or appservice, not {mode!r}")
    return mode


def run() -> None:
    os.environ["MATRIX_USERS_EXCLUSIVE"] = "true" if identity_mode() == "appservice" else "false"
    for name in TEMPLATES:
        render(name)
    # A fresh named volume is root-owned; Synapse writes its signing key and media there.
    os.makedirs("/data/media_store", exist_ok=True)
    for path in ("/data", "/data/media_store"):
        os.chown(path, UID, GID)
    os.environ["SYNAPSE_CONFIG_PATH"] = f"{OUT}/homeserver.yaml"
    os.execv("/start.py", ["/start.py", "run"])


def register_admin() -> None:
    if identity_mode() == "appservice":
        print("synapse entrypoint: MATRIX_IDENTITY_MODE=appservice uses no admin; none created")
        return
    user = env("MATRIX_ADMIN_USER")
    if user.startswith("@"):  # lib/config.ts accepts a full user id too; registration wants the localpart
        user = user[1:].split(":", 1)[0]
    # Secret and password go through 0600 files, not argv, so `ps` on the host does not show them.
    # JSON is valid YAML, so json.dumps quotes the secret whatever it contains.
    write_private(f"{OUT}/register.yaml", json.dumps({"registration_shared_secret": env("SYNAPSE_REGISTRATION_SECRET")}))
    write_private(f"{OUT}/admin-password", env("MATRIX_ADMIN_PASSWORD"))
    os.execvp(
        "register_new_matrix_user",
        [
            "register_new_matrix_user",
            "--config", f"{OUT}/register.yaml",
            "--user", user,
            "--password-file", f"{OUT}/admin-password",
            "--admin",
            "--exists-ok",
            "http://synapse:8008",
        ],
    )


if __name__ == "__main__":
    os.makedirs(OUT, mode=0o700, exist_ok=True)
    os.chown(OUT, UID, GID)
    mode = sys.argv[1] if len(sys.argv) > 1 else "run"
    if mode == "run":
        run()
    elif mode == "register-admin":
        register_admin()
    else:
        fail(f"unknown mode {mode!r} (run | register-admin)")

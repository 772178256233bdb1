"""The `.env` file the setup flow writes and the doctor and the dev server read.

One reader and one writer, so what setup saves is read back the same way everywhere.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a .env file (comments, ``export`` and outer quotes allowed).

    Values are returned as written: ``\\n`` stays two characters, as the settings expect.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match:
            values[match.group(1)] = _unquote(match.group(2))
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _quote(value: str) -> str:
    """A value on one line, in double quotes (systemd, python-dotenv and us agree on it)."""
    flat = value.replace("\r\n", "\n").replace("\n", "\\n")
    if '"' not in flat:
        return f'"{flat}"'
    if "'" not in flat:
        return f"'{flat}'"
    raise ValueError("a .env value may not contain both kinds of quote")


def update_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in a .env file, keeping every other line; the file ends up mode 0600.

    Written to a private temporary file and renamed over the old one, so a crash
    leaves the old file or the new one, never half of one, and the secrets are
    never readable by other users, not even for a moment.
    """
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        match = _ENV_LINE.match(line) if not line.lstrip().startswith("#") else None
        key = match.group(1) if match else None
        if key is not None and key in values:
            if key in pending:
                out.append(f"{key}={_quote(pending.pop(key))}")
            continue  # a later duplicate of a key just written
        out.append(line)
    out.extend(f"{key}={_quote(value)}" for key, value in pending.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".env.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(out) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_configured(env_path: Path, environ: Mapping[str, str] | None = None) -> bool:
    """True once an App ID is set in the environment or in the .env file."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("APP_ID", "").strip() or read_env_file(env_path).get("APP_ID"))

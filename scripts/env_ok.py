"""Exit 0 when this interpreter can run the checkout: every requirement of
pyproject.toml (with the dev extra) is installed at an allowed version, and
`bot` imports from this checkout rather than from another clone's install."""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems() -> list[str]:
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return ["packaging is not installed"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    found: list[str] = []
    for line in wanted:
        req = Requirement(line)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            found.append(f"{req.name} is not installed")
            continue
        if not req.specifier.contains(version, prereleases=True):
            found.append(f"{req.name} {version} does not satisfy {req.specifier}")
    for package in ("bot", "worker"):
        spec = importlib.util.find_spec(package)
        origin = Path(spec.origin).resolve() if spec and spec.origin else None
        if origin is None or ROOT not in origin.parents:
            found.append(f"{package} does not import from {ROOT}")
    return found


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(f"codex-guard: {issue}", file=sys.stderr)
    sys.exit(1 if issues else 0)

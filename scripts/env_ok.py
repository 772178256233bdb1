"""Exit 0 when this interpreter can run the checkout: every requirement of
pyproject.toml (with the dev extra) and of the GitHub double's double/pyproject.toml
is installed at an allowed version, and `bot` and `worker` import from this checkout
rather than from another clone's install. The double itself is not installed: the
tests and the dev server load it from double/, so the product processes cannot."""

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
    double = tomllib.loads((ROOT / "double" / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    wanted += list(double["dependencies"])
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
    for package, home in (("bot", ROOT), ("worker", ROOT)):
        spec = importlib.util.find_spec(package)
        origin = Path(spec.origin).resolve() if spec and spec.origin else None
        if origin is None or home not in origin.parents:
            found.append(f"{package} does not import from {home}")
    return found


if __name__ == "__main__":
    issues = problems()
    for issue in issues:
        print(f"codex-guard: {issue}", file=sys.stderr)
    sys.exit(1 if issues else 0)

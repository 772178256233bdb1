"""Running the Procfile's processes, for `make run` and the end-to-end tests.

Both run exactly the commands a platform would, so what is tested and demoed
is what is deployed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]


def read_procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, command = line.split(":", 1)
        commands[name.strip()] = command.strip()
    return commands


class Process:
    """One Procfile process in its own process group, its output prefixed or captured."""

    def __init__(
        self,
        name: str,
        command: str,
        env: Mapping[str, str],
        *,
        cwd: Path = ROOT,
        sink: IO[str] | None = None,
    ) -> None:
        self.name = name
        self.lines: list[str] = []
        bin_dir = str(Path(sys.executable).parent)
        full_env = dict(env)
        full_env["PATH"] = f"{bin_dir}:{full_env.get('PATH', os.environ.get('PATH', ''))}"
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        self.proc = subprocess.Popen(  # noqa: S603 - the project's own Procfile
            ["/bin/sh", "-c", f"exec {command}"],
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._pump, args=(sink,), daemon=True)
        self._reader.start()

    def _pump(self, sink: IO[str] | None) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if sink is not None:
                sink.write(f"{self.name:>7} | {line}")
                sink.flush()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._reader.join(timeout=2)

    def output(self) -> str:
        return "\n".join(self.lines)

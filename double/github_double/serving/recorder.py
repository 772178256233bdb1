"""Recorded calls and contract violations, and the faults and tampers tests arm."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from github_double.serving.base import DoubleBase
from github_double.serving.records import Fault, RequestRecord, Tamper

log = logging.getLogger("github_double.server")  # one logger name for the whole server


class Recorder(DoubleBase):
    """Inspection and test hooks: recorded calls, violations, faults, tampers."""

    def assert_clean(self) -> None:
        """Fail with every recorded contract violation (call at the end of a test)."""
        with self._records_lock:
            found = list(self.violations)
        if found:
            listing = "\n".join(f"- {v}" for v in found)
            raise AssertionError(
                f"GitHub double saw {len(found)} contract violation(s):\n{listing}"
            )

    def reset_requests(self) -> None:
        with self._records_lock:
            self.requests.clear()

    def clear_violations(self) -> None:
        with self._records_lock:
            self.violations.clear()

    def calls(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RequestRecord]:
        """Recorded requests filtered by method and a regex searched in the API path."""
        pattern = re.compile(path_regex) if path_regex else None
        with self._records_lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
            ]

    def _violation(self, method: str, path: str, what: str) -> None:
        line = f"{method} {path}: {what}"
        log.warning("github double contract violation: %s", line)
        with self._records_lock:
            self.violations.append(line)

    # -- test hooks -----------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> Fault:
        """Make the next `times` matching requests fail with `status` and/or wait `delay` s.

        `path_regex` is searched in the path below /api/v3. A 2xx/3xx status without a body
        only adds `headers` to the real answer; `status=None` only delays.
        """
        fault = Fault(
            method.upper(), re.compile(path_regex), status, times, dict(headers or {}), body, delay
        )
        with self._records_lock:
            self._faults.append(fault)
        return fault

    def tamper(
        self, method: str, path_regex: str, mutate: Callable[[Any], Any], times: int = 1
    ) -> None:
        """Rewrite the next matching response bodies (to prove the response check works)."""
        with self._records_lock:
            self._tampers.append(Tamper(method.upper(), re.compile(path_regex), mutate, times))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._records_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _take_tamper(self, method: str, path: str) -> Tamper | None:
        with self._records_lock:
            for hook in self._tampers:
                if hook.times > 0 and hook.method in ("*", method) and hook.regex.search(path):
                    hook.times -= 1
                    return hook
        return None

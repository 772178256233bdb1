"""A tiny non-GitHub API to seed and inspect a double running in another process."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from werkzeug.wrappers import Request, Response

from github_double.serving.recorder import Recorder


class Control(Recorder):
    """The `/_double/` control endpoints for the sandbox demo."""

    def _control(self, request: Request) -> Response:
        """Tiny non-GitHub API for seeding/inspecting a double running in another process."""
        action = request.path.removeprefix("/_double/")
        payload = request.get_json(silent=True) or {}
        if request.method == "GET" and action == "violations":
            out: Any = list(self.violations)
        elif request.method == "GET" and action == "requests":
            out = [asdict(r) for r in self.calls()]
        elif request.method == "POST" and action == "events":
            out = asdict(self.world.seed_from_event(payload))
        elif request.method == "POST" and action == "files":
            commit = self.world.put_files(
                payload["repo"],
                payload["sha"],
                payload["files"],
                base=payload.get("base"),
                branch=payload.get("branch"),
            )
            out = {"sha": commit.sha, "files": sorted(commit.files)}
        else:
            return Response(
                json.dumps({"message": "Not Found"}), status=404, content_type="application/json"
            )
        return Response(json.dumps(out), content_type="application/json")

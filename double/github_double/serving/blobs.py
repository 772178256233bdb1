"""The double's stand-in for GitHub's blob storage: where artifact download redirects lead.

GitHub answers an artifact download with a 302 to a signed URL on another host that is
valid for a minute. The double signs the same way (see `state.actions`) and serves the
archive at `/_blobs/artifacts/<id>.zip`, outside the API prefix and outside the contract:
blob storage is not part of GitHub's REST API.
"""

from __future__ import annotations

import re
import time

from werkzeug.wrappers import Request, Response

from github_double.serving.recorder import Recorder
from github_double.serving.records import RequestRecord

BLOB_TEMPLATE = "/_blobs/artifacts/{artifact_id}.zip"
_ARTIFACT_PATH = re.compile(r"^/_blobs/artifacts/(\d+)\.zip$")
_DENIED = (
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
    "<Message>Server failed to authenticate the request. The signature is invalid or the URL "
    "has expired.</Message></Error>"
)


class Blobs(Recorder):
    """Serves artifact archives behind the signed URLs the download endpoint hands out."""

    def _blob(self, request: Request) -> Response:
        started = time.monotonic()
        query = {k: request.args.getlist(k) for k in request.args}
        record = RequestRecord(
            request.method.upper(),
            request.path,
            BLOB_TEMPLATE,
            query,
            0,
            "token" if request.headers.get("Authorization") else "none",
            None,
        )
        response = self._blob_response(request)
        record.status = response.status_code
        record.duration = time.monotonic() - started
        with self._records_lock:
            self.requests.append(record)
        return response

    def _blob_response(self, request: Request) -> Response:
        found = _ARTIFACT_PATH.match(request.path)
        if found is None or request.method.upper() not in ("GET", "HEAD"):
            return Response("The specified resource does not exist.", 404, mimetype="text/plain")
        data = self.world.artifact_blob(
            int(found.group(1)), request.args.get("expires", ""), request.args.get("sig", "")
        )
        if data is None:
            return Response(_DENIED, 403, mimetype="application/xml")
        return Response(data, 200, content_type="application/zip")

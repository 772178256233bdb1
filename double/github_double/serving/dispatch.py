"""One API request from routing to handler: request contract, faults, auth, rate limit."""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

from werkzeug.wrappers import Request, Response

from github_double.auth import Caller, identify
from github_double.endpoints import ROUTES, ApiError, Ctx, Reply
from github_double.models import NotFound
from github_double.openapi_check import Operation, check_request, find_operation
from github_double.render import Renderer
from github_double.serving.access import Access
from github_double.serving.base import API_PREFIX, REASONS
from github_double.serving.contract import Contract
from github_double.serving.records import Fault, RequestRecord

log = logging.getLogger("github_double.server")  # one logger name for the whole server

_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


class Dispatch(Access, Contract):
    """Routes, checks and answers one API request."""

    def _serve(self, request: Request) -> Response:
        started = time.monotonic()
        method = request.method.upper()
        path = request.path
        query = {k: request.args.getlist(k) for k in request.args}
        raw = request.get_data()
        record = RequestRecord(method, path, None, query, 0, "none", None)
        reply, origin, op, params = self._dispatch(request, method, path, query, raw, record)
        response = self._respond(method, path, op, params, reply, origin)
        record.status = response.status_code
        record.duration = time.monotonic() - started
        with self._records_lock:
            self.requests.append(record)
        return response

    def _dispatch(
        self,
        request: Request,
        method: str,
        path: str,
        query: dict[str, list[str]],
        raw: bytes,
        record: RequestRecord,
    ) -> tuple[Reply, str, Operation | None, dict[str, str]]:
        """Route, check and answer one API request; returns (reply, origin, op, params)."""
        if not path.startswith(API_PREFIX + "/"):
            self._violation(method, path, "request outside the API prefix /api/v3")
            return Reply(404, self._error_body(404)), "route", None, {}
        api_path = path[len(API_PREFIX) :]
        record.path = api_path
        op, params, path_known = find_operation(method, api_path)
        if op is None:
            why = "method not allowed for this path" if path_known else "no such operation in spec"
            self._violation(method, api_path, f"unknown route ({why})")
            return Reply(404, self._error_body(404)), "route", None, {}
        record.template = op.template

        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._violation(method, api_path, "request body is not valid JSON")
                return (
                    Reply(400, self._error_body(400, "Problems parsing JSON")),
                    "contract",
                    op,
                    params,
                )
        record.body = body

        result = check_request(
            op,
            api_path,
            params,
            query,
            dict(request.headers),
            raw,
            request.content_type or "application/json",
        )
        if not result.ok:
            for line in result.errors:
                self._violation(method, api_path, f"request: {line}")
            if result.path_invalid:
                return Reply(404, self._error_body(404)), "contract", op, params
            errors = [
                {"resource": op.operation_id, "code": "invalid", "message": e}
                for e in result.errors
            ]
            return (
                Reply(422, self._error_body(422, "Invalid request.", errors)),
                "contract",
                op,
                params,
            )

        fault = self._take_fault(method, api_path)
        if fault is not None:
            record.injected = True
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None and (fault.status >= 300 or fault.body is not None):
                return self._fault_reply(fault), "fault", op, params

        caller = identify(request.headers.get("Authorization"), self.world, self.public_key)
        record.auth = caller.kind
        record.installation_id = caller.installation_id
        denied = self._authorize(op, params, caller)
        if denied is not None:
            return denied, "auth", op, params

        bucket = self._bucket(caller)
        reply_headers: dict[str, str] = {}
        if op.template != "/rate_limit":
            limit, used, reset = self.world.count_request(bucket)
            reply_headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - used)),
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": str(used),
                "X-RateLimit-Resource": "core",
            }
            if used > limit:
                who = (
                    f"installation ID {caller.installation_id}"
                    if caller.installation_id
                    else "this client"
                )
                reply = Reply(
                    403, self._error_body(403, f"API rate limit exceeded for {who}."), reply_headers
                )
                return reply, "rate", op, params

        reply = self._run_handler(op, params, query, body, caller, api_path, bucket, method)
        reply.headers = {**reply_headers, **reply.headers}
        if fault is not None and fault.headers:
            reply.headers.update(fault.headers)
        return reply, "handler", op, params

    def _fault_reply(self, fault: Fault) -> Reply:
        status = fault.status or 500
        body = fault.body
        if body is None:
            message = REASONS.get(status, "Error")
            if status in (403, 429):
                message = _SECONDARY
                if fault.headers.get("X-RateLimit-Remaining") == "0":
                    message = "API rate limit exceeded."
            body = self._error_body(status, message)
        return Reply(status, body, dict(fault.headers))

    def _run_handler(
        self,
        op: Operation,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        caller: Caller,
        api_path: str,
        bucket: str,
        method: str,
    ) -> Reply:
        handler = ROUTES.get((op.method, op.template))
        if handler is None:
            self._violation(method, api_path, f"{op.operation_id} is not implemented by the double")
            return Reply(501, self._error_body(501, "Not implemented by the GitHub double"))
        ctx = Ctx(
            world=self.world,
            render=Renderer(self.world, self.base_url, self.web_url),
            op=op,
            params=params,
            query=query,
            body=body,
            caller=caller,
            api_path=api_path,
            api_base=self.base_url,
            bucket=bucket,
            blob_base=self.blob_url,
        )
        try:
            with self.world.lock:
                reply = handler(ctx)
        except ApiError as exc:
            if exc.violation:
                self._violation(method, api_path, f"rejected like GitHub: {exc.violation}")
            reply = Reply(exc.status, self._error_body(exc.status, exc.message, exc.errors))
        except NotFound:
            reply = Reply(404, self._error_body(404))
        except Exception as exc:  # a bug in the double must be loud, not a silent 500
            log.exception("github double handler crashed")
            tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self._violation(method, api_path, f"double crashed: {tail}")
            reply = Reply(500, self._error_body(500))
        reply.headers.update(ctx.headers)
        return reply

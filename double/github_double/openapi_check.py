"""Contract checks: match paths to GitHub's operations and validate traffic with openapi-core.

The double must never drift from GitHub's published contract, so every request the app
sends and every response the double returns is checked against `spec/rest-app-subset.json`.
Parsing the spec costs about a second, so it is loaded once per process and shared.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_PATH = Path(__file__).with_name("spec") / "rest-app-subset.json"
GITHUB_API = "https://api.github.com"
HTTP_METHODS = ("get", "post", "patch", "put", "delete")

# Path parameters whose values may contain "/" on GitHub (file paths, refs, branch names).
_GREEDY_PARAMS = {"path", "ref", "branch", "tree_sha", "basehead"}

_openapi_lock = threading.Lock()
_openapi: Any = None


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The trimmed OpenAPI document as plain JSON (shared, treat as read-only).

    Two normalisations are applied in memory, both where GitHub's description contradicts
    what GitHub sends and validators would reject real traffic:
    - fields such as a check run's `conclusion` are `nullable: true` with an `enum` that
      omits null (GitHub sends null); null is added to such enums;
    - the contents response is a `oneOf` with a `discriminator` on `type`, but one branch is
      a directory *array*, which no discriminator can select; such discriminators are dropped.
    """
    with SPEC_PATH.open(encoding="utf-8") as fh:
        doc = json.load(fh)
    _allow_null_in_nullable_enums(doc)
    _drop_discriminators_over_arrays(doc, doc)
    return doc


def _drop_discriminators_over_arrays(node: Any, doc: dict[str, Any]) -> None:
    if isinstance(node, dict):
        if "discriminator" in node and isinstance(node.get("oneOf"), list):
            branches = [pointer(doc, b["$ref"]) if "$ref" in b else b for b in node["oneOf"]]
            if any(b.get("type") == "array" for b in branches):
                del node["discriminator"]
        for value in node.values():
            _drop_discriminators_over_arrays(value, doc)
    elif isinstance(node, list):
        for value in node:
            _drop_discriminators_over_arrays(value, doc)


def _allow_null_in_nullable_enums(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list):
            if None not in node["enum"]:
                node["enum"].append(None)
        for value in node.values():
            _allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_nullable_enums(value)


def openapi() -> Any:
    """The openapi-core `OpenAPI` object, built once per process.

    Spec self-validation is skipped: the file is GitHub's own and validating it costs ~1 s.
    """
    global _openapi
    with _openapi_lock:
        if _openapi is None:
            from jsonschema_path import SchemaPath
            from openapi_core import Config, OpenAPI

            _openapi = OpenAPI(SchemaPath.from_dict(spec()), config=Config(spec_validator_cls=None))
        return _openapi


@dataclass(frozen=True)
class Operation:
    """One method + path template of the spec, with the regex that recognises it."""

    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    statuses: frozenset[str]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        return found.groupdict() if found else None

    def documents(self, status: int) -> bool:
        return str(status) in self.statuses or "default" in self.statuses


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    out = []
    for part in parts:
        if part.startswith("{"):
            name = part[1:-1]
            out.append(f"(?P<{name}>.+)" if name in _GREEDY_PARAMS else f"(?P<{name}>[^/]+)")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")


@lru_cache(maxsize=1)
def operations() -> tuple[Operation, ...]:
    """All spec operations, most literal templates first so `/x/{a}/y` beats `/x/{greedy}`."""
    ops = []
    for template, item in spec()["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            ops.append(
                Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=op.get("operationId", ""),
                    regex=_template_regex(template),
                    statuses=frozenset(op.get("responses", {})),
                )
            )

    def literal_weight(op: Operation) -> tuple[int, int]:
        segments = op.template.strip("/").split("/")
        return (-sum(1 for s in segments if not s.startswith("{")), -len(segments))

    return tuple(sorted(ops, key=literal_weight))


def find_operation(method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
    """Return (operation, path params, path_known). path_known is True if only the method is off."""
    path_known = False
    for op in operations():
        params = op.match(path)
        if params is None:
            continue
        if op.method == method.upper():
            return op, params, True
        path_known = True
    return None, {}, path_known


class _Request:
    """openapi-core request protocol over already-routed data (host is GitHub's server URL)."""

    def __init__(
        self,
        op: Operation,
        path: str,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes | None,
        content_type: str,
    ) -> None:
        self.host_url = GITHUB_API
        self.path = path
        self.path_pattern = op.template
        self.method = op.method.lower()
        self.body = body or b""
        self.content_type = (content_type or "application/json").lower()
        from openapi_core.datatypes import RequestParameters

        pairs = [(k, v) for k, values in query.items() for v in values]
        self.parameters = RequestParameters(
            path=dict(path_params),
            query=ImmutableMultiDict(pairs),
            header=Headers(list(headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]):
        self.status_code = status
        self.data = body
        self.content_type = content_type.lower()
        self.headers = Headers(list(headers.items()))


def _describe(exc: BaseException) -> list[str]:
    """Turn an openapi-core error (and its jsonschema causes) into short readable lines."""
    name = type(exc).__name__
    cause = exc.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None)
    if schema_errors:
        lines = []
        for err in schema_errors:
            where = "/".join(str(p) for p in err.absolute_path) or "<root>"
            lines.append(f"{name}: at {where}: {_clip(err.message)}")
        return lines
    text = str(exc) or repr(exc)
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return [f"{name}: {_clip(text)}"]


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class CheckResult:
    """Errors found in one request or response; empty means it matches the contract."""

    errors: list[str] = field(default_factory=list)
    path_invalid: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


_validate_lock = threading.Lock()


def check_request(
    op: Operation,
    path: str,
    path_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes | None,
    content_type: str,
) -> CheckResult:
    """Validate path/query/body of a routed request against the operation's description."""
    req = _Request(op, path, path_params, query, headers, body, content_type)
    api = openapi()
    with _validate_lock:
        excs = list(api.request_validator.iter_errors(req))
    path_invalid = any(getattr(exc, "location", None) == "path" for exc in excs)
    return CheckResult([line for exc in excs for line in _describe(exc)], path_invalid)


def check_response(
    op: Operation,
    path: str,
    path_params: Mapping[str, str],
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str],
) -> CheckResult:
    """Validate status code and body of a response against the operation's description."""
    if not op.documents(status):
        return CheckResult([f"status {status} is not documented for {op.operation_id}"])
    req = _Request(op, path, path_params, {}, {}, None, "application/json")
    resp = _Response(status, body, content_type, headers)
    api = openapi()
    with _validate_lock:
        errors = [
            line for exc in api.response_validator.iter_errors(req, resp) for line in _describe(exc)
        ]
    return CheckResult(errors)


def response_schema(op: Operation, status: int) -> dict[str, Any] | None:
    """The JSON schema (possibly a $ref) documented for `status`, or None."""
    item = spec()["paths"][op.template][op.method.lower()]
    resp = item.get("responses", {}).get(str(status))
    if resp is None:
        return None
    resp = deref(resp)
    content = resp.get("content", {}).get("application/json")
    return content.get("schema") if content else None


def deref(node: Any) -> Any:
    """Follow local `$ref`s until a concrete node is reached."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        node = pointer(spec(), node["$ref"])
        seen += 1
        if seen > 50:
            raise ValueError("reference cycle")
    return node


def pointer(doc: Any, ref: str) -> Any:
    """Resolve a local JSON pointer such as `#/components/schemas/issue`."""
    node = doc
    for raw in ref.lstrip("#").strip("/").split("/"):
        if raw == "":
            continue
        key = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node

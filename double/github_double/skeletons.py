"""Complete example objects ("skeletons") for each GitHub schema the double renders.

GitHub's own spec examples give realistic, complete objects, but some of them miss fields
the schema marks as required. Each skeleton is an example repaired until it validates, so
the renderers only overwrite what the world knows and never emit a partial object (PyGithub
would lazily re-fetch a partial object, inflating the request counts tests assert on).
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from openapi_schema_validator import OAS30Validator

from github_double.openapi_check import deref, pointer, spec

# schema component -> (components/examples name, JSON pointer inside the example value)
SOURCES: dict[str, tuple[str, str]] = {
    "simple-user": ("pull-request", "/user"),
    "public-user": ("public-user-default-response", ""),
    "integration": ("integration", ""),
    "installation": ("base-installation", ""),
    "installation-token": ("installation-token", ""),
    "full-repository": ("full-repository-default-response", ""),
    "repository": ("repository-paginated-2", "/repositories/0"),
    "minimal-repository": ("check-suite-paginated", "/check_suites/0/repository"),
    "pull-request": ("pull-request", ""),
    "pull-request-simple": ("pull-request-simple-items", "/0"),
    "pull-request-minimal": ("check-run", "/pull_requests/0"),
    "label": ("label-items", "/0"),
    "diff-entry": ("diff-entry-items", "/0"),
    "commit": ("commit", ""),
    "check-run": ("check-run", ""),
    "check-suite": ("check-suite-paginated", "/check_suites/0"),
    "check-annotation": ("check-annotation-items", "/0"),
    "status": ("status", ""),
    "simple-commit-status": ("combined-commit-status", "/statuses/0"),
    "combined-commit-status": ("combined-commit-status", ""),
    "issue": ("issue", ""),
    "issue-comment": ("issue-comment", ""),
    "reaction": ("reaction", ""),
    "content-file": ("content-file-response-if-content-is-a-file", ""),
    "git-tree": ("git-tree-response-recursively-retrieving-a-tree", ""),
    "blob": ("blob", ""),
    "branch-with-protection": ("branch-get", ""),
    "repository-collaborator-permission": (
        "repository-collaborator-permission-response-if-user-has-admin-permissions",
        "",
    ),
    "hook-delivery-item": ("hook-delivery-items", "/0"),
    "hook-delivery": ("hook-delivery", ""),
    "webhook-config": ("webhook-config", ""),
    "rate-limit-overview": ("rate-limit-overview", ""),
    "pull-request-review": ("pull-request-review", ""),
    "commit-comparison": ("commit-comparison", ""),
    "team-membership": ("team-membership-response-if-user-is-a-team-maintainer", ""),
    "branch-protection": ("branch-protection", ""),
    "repository-ruleset": ("repository-ruleset", ""),
    "workflow-run": ("workflow-run", ""),
    "artifact": ("artifact-paginated", "/artifacts/0"),
}

_FORMAT_DEFAULTS = {
    "date-time": "2011-01-26T19:01:12Z",
    "date": "2011-01-26",
    "uri": "https://api.github.com/",
    "email": "octocat@github.com",
}

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def validator_for(schema_name: str) -> OAS30Validator:
    """A jsonschema validator for one component schema, with the spec's components in scope."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec()["components"]}
    return OAS30Validator(root)


def generate(schema: Any) -> Any:
    """Produce a minimal value satisfying `schema` (used to fill fields examples leave out)."""
    schema = deref(schema)
    if not isinstance(schema, dict):
        return None
    if schema.get("nullable"):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = generate(part)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return generate(schema[key][0])
    kind = schema.get("type")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties", {})
        return {name: generate(props.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        return _FORMAT_DEFAULTS.get(schema.get("format", ""), "")
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def _set_at(doc: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _deepest_leaf_errors(err: Any) -> list[Any]:
    """For oneOf/anyOf failures, pick the branch whose errors are fewest and fix those."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    by_branch: dict[int, list[Any]] = {}
    for sub in err.context:
        by_branch.setdefault(sub.schema_path[0], []).append(sub)
    best = min(by_branch.values(), key=len)
    out: list[Any] = []
    for sub in best:
        out.extend(_deepest_leaf_errors(sub))
    return out


def repair(schema_name: str, value: Any) -> Any:
    """Fill in or replace whatever keeps `value` from validating against the schema."""
    validator = validator_for(schema_name)
    for _ in range(500):
        errors = list(validator.iter_errors(value))
        if not errors:
            return value
        for err in _deepest_leaf_errors(errors[0]):
            path = list(err.absolute_path)
            if err.validator == "required" and isinstance(err.instance, dict):
                props = deref(err.schema).get("properties", {})
                for name in err.validator_value:
                    if name not in err.instance:
                        err.instance[name] = generate(props.get(name, {}))
            else:
                value = _set_at(value, path, generate(err.schema))
    raise ValueError(f"could not repair example for {schema_name}")


def _base_skeleton(schema_name: str) -> Any:
    with _cache_lock:
        if schema_name not in _cache:
            example_name, ptr = SOURCES[schema_name]
            example = spec()["components"]["examples"][example_name]["value"]
            value = copy.deepcopy(pointer(example, ptr) if ptr else example)
            _cache[schema_name] = repair(schema_name, value)
        return _cache[schema_name]


_API_RE = re.compile(r"https://api\.github\.com")
_WEB_RE = re.compile(r"https?://(?:[a-z0-9-]+\.)*(?:github\.com|githubusercontent\.com)")
_GIT_RE = re.compile(r"^git(?::|@)github\.com[:/]")


def rebase_urls(value: Any, api_base: str, web_base: str) -> Any:
    """Point every GitHub URL in `value` at the double (api host first, then web hosts)."""
    if isinstance(value, dict):
        return {k: rebase_urls(v, api_base, web_base) for k, v in value.items()}
    if isinstance(value, list):
        return [rebase_urls(v, api_base, web_base) for v in value]
    if isinstance(value, str):
        text = _API_RE.sub(api_base, value)
        text = _WEB_RE.sub(web_base, text)
        text = _GIT_RE.sub(web_base.replace("http://", "git://") + "/", text)
        return text
    return value


def skeleton(schema_name: str, api_base: str, web_base: str) -> Any:
    """A fresh, schema-valid example object for `schema_name` with URLs on the double."""
    return rebase_urls(copy.deepcopy(_base_skeleton(schema_name)), api_base, web_base)

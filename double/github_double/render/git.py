"""Git data: branches, commits, diffs, contents, trees and blobs."""

from __future__ import annotations

import base64
import difflib
from typing import Any
from urllib.parse import quote

from github_double.models import Commit, Repo, git_blob_sha
from github_double.render.base import EXAMPLE_REPO, RenderBase, node_id, retarget


def _diff_status(old: bytes | None, new: bytes | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "modified"


def _patch(old: bytes | None, new: bytes | None) -> tuple[str, int, int]:
    """Unified diff hunks (no file headers, like GitHub's `patch`) plus +/- counts."""
    a = (old or b"").decode("utf-8", "replace").splitlines()
    b = (new or b"").decode("utf-8", "replace").splitlines()
    lines = list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]
    adds = sum(1 for ln in lines if ln.startswith("+"))
    dels = sum(1 for ln in lines if ln.startswith("-"))
    return "\n".join(lines), adds, dels


class GitRender(RenderBase):
    """Renders branches, commits, diffs, contents, trees and blobs."""

    def branch(self, r: Repo, name: str, sha: str) -> dict[str, Any]:
        out = retarget(self._skel("branch-with-protection"), EXAMPLE_REPO, r.full_name)
        out.update(
            name=name,
            commit=self.commit(r, r.commits[sha]),
            protected=False,
            protection_url=f"{self.api}/repos/{r.full_name}/branches/{quote(name)}/protection",
            _links={
                "html": f"{self.web}/{r.full_name}/tree/{quote(name)}",
                "self": f"{self.api}/repos/{r.full_name}/branches/{quote(name)}",
            },
        )
        out["protection"] = {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        }
        out.pop("required_approving_review_count", None)
        return out

    def file_changes(self, r: Repo, base: str, head: str) -> list[dict[str, Any]]:
        """Diff entries between two commits (empty when either commit's files are unknown)."""
        old = r.commits[base].files if base in r.commits else {}
        new = r.commits[head].files if head in r.commits else {}
        out = []
        for path in sorted(set(old) | set(new)):
            a, b = old.get(path), new.get(path)
            if a == b:
                continue
            patch, adds, dels = _patch(a, b)
            entry = self._skel("diff-entry")
            entry.pop("previous_filename", None)
            blob = git_blob_sha(b if b is not None else a or b"")
            entry.update(
                sha=blob,
                filename=path,
                status=_diff_status(a, b),
                additions=adds,
                deletions=dels,
                changes=adds + dels,
                blob_url=f"{self.web}/{r.full_name}/blob/{head}/{quote(path)}",
                raw_url=f"{self.web}/{r.full_name}/raw/{head}/{quote(path)}",
                contents_url=f"{self.api}/repos/{r.full_name}/contents/{quote(path)}?ref={head}",
                patch=patch,
            )
            out.append(entry)
        return out

    def commit(self, r: Repo, c: Commit, with_files: bool = False) -> dict[str, Any]:
        out = retarget(self._skel("commit"), EXAMPLE_REPO, r.full_name)
        author = self.world.user(c.author)
        person = {
            "name": author.login,
            "email": f"{author.login}@users.noreply.example",
            "date": c.date,
        }
        tree = self.world.root_tree(r.full_name, c.sha)
        out.update(
            sha=c.sha,
            node_id=node_id("Commit", c.sha[:12]),
            url=f"{self.api}/repos/{r.full_name}/commits/{c.sha}",
            html_url=f"{self.web}/{r.full_name}/commit/{c.sha}",
            comments_url=f"{self.api}/repos/{r.full_name}/commits/{c.sha}/comments",
            author=self.user(author),
            committer=self.user(author),
            parents=[
                {
                    "sha": p,
                    "url": f"{self.api}/repos/{r.full_name}/commits/{p}",
                    "html_url": f"{self.web}/{r.full_name}/commit/{p}",
                }
                for p in c.parents
            ],
        )
        out["commit"].update(
            url=f"{self.api}/repos/{r.full_name}/git/commits/{c.sha}",
            author=dict(person),
            committer=dict(person),
            message=c.message,
            tree={"sha": tree, "url": f"{self.api}/repos/{r.full_name}/git/trees/{tree}"},
            comment_count=0,
        )
        out["commit"]["verification"] = {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        }
        files = self.file_changes(r, c.parents[0], c.sha) if c.parents else []
        out["stats"] = {
            "additions": sum(f["additions"] for f in files),
            "deletions": sum(f["deletions"] for f in files),
            "total": sum(f["changes"] for f in files),
        }
        if with_files:
            out["files"] = files
        else:
            out.pop("files", None)
        return out

    def content_entry(self, r: Repo, path: str, ref: str, data: bytes | None) -> dict[str, Any]:
        """A contents API entry: a file (with base64 content) or, when data is None, a dir."""
        out = self._skel("content-file")
        for key in ("target", "submodule_git_url"):
            out.pop(key, None)
        name = path.rsplit("/", 1)[-1]
        qpath = quote(path)
        if data is None:
            tree_sha = self._subtree_sha(r, ref, path)
            git_url = f"{self.api}/repos/{r.full_name}/git/trees/{tree_sha}"
            html = f"{self.web}/{r.full_name}/tree/{ref}/{qpath}"
            out.update(type="dir", size=0, sha=tree_sha, download_url=None)
            out.pop("content", None)
            out.pop("encoding", None)
        else:
            sha = git_blob_sha(data)
            git_url = f"{self.api}/repos/{r.full_name}/git/blobs/{sha}"
            html = f"{self.web}/{r.full_name}/blob/{ref}/{qpath}"
            encoded = base64.b64encode(data).decode()
            wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
            out.update(
                type="file",
                encoding="base64",
                size=len(data),
                sha=sha,
                content=wrapped + ("\n" if wrapped else ""),
                download_url=f"{self.web}/{r.full_name}/raw/{ref}/{qpath}",
            )
        self_url = f"{self.api}/repos/{r.full_name}/contents/{qpath}?ref={quote(ref)}"
        out.update(name=name, path=path, url=self_url, git_url=git_url, html_url=html)
        out["_links"] = {"self": self_url, "git": git_url, "html": html}
        return out

    def _subtree_sha(self, r: Repo, ref: str, path: str) -> str:
        sha = self.world.resolve_ref(r.full_name, ref) or ref
        tree = self.world.root_tree(r.full_name, sha)
        for part in path.split("/"):
            tree = next(e[3] for e in r.trees[tree] if e[2] == part and e[1] == "tree")
        return tree

    def tree(self, r: Repo, tree_sha: str, recursive: bool) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []

        def walk(sha: str, prefix: str) -> None:
            for mode, kind, name, child in r.trees[sha]:
                path = f"{prefix}{name}"
                entry: dict[str, Any] = {
                    "path": path,
                    "mode": mode if kind == "blob" else "040000",
                    "type": kind,
                    "sha": child,
                }
                if kind == "blob":
                    entry["size"] = len(r.blobs[child])
                    entry["url"] = f"{self.api}/repos/{r.full_name}/git/blobs/{child}"
                else:
                    entry["url"] = f"{self.api}/repos/{r.full_name}/git/trees/{child}"
                entries.append(entry)
                if kind == "tree" and recursive:
                    walk(child, path + "/")

        walk(tree_sha, "")
        return {
            "sha": tree_sha,
            "url": f"{self.api}/repos/{r.full_name}/git/trees/{tree_sha}",
            "tree": entries,
            "truncated": False,
        }

    def blob(self, r: Repo, sha: str) -> dict[str, Any]:
        data = r.blobs[sha]
        return {
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
            "url": f"{self.api}/repos/{r.full_name}/git/blobs/{sha}",
            "sha": sha,
            "size": len(data),
            "node_id": node_id("Blob", sha[:12]),
        }

"""Git data of a repository: commits with their files, branches, refs and trees."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from github_double.models import Commit, Repo, as_bytes, git_blob_sha, git_tree_sha
from github_double.state.base import WorldBase


class GitData(WorldBase):
    """World methods for commits, files, branches and trees."""

    def put_files(
        self,
        repo: str,
        sha: str,
        files: Mapping[str, str | bytes],
        *,
        base: str | None = None,
        delete: Iterable[str] = (),
        message: str | None = None,
        branch: str | None = None,
    ) -> Commit:
        """Set files of commit `sha` (created if new, starting from `base`'s files)."""
        with self.lock:
            r = self.repo(repo)
            commit = r.commits.get(sha)
            if commit is None:
                start = dict(r.commits[base].files) if base in r.commits else {}
                commit = Commit(
                    sha=sha,
                    files=start,
                    message=message or f"Commit {sha[:7]}",
                    parents=[base] if base else [],
                )
                r.commits[sha] = commit
            elif message:
                commit.message = message
            for path, content in files.items():
                data = as_bytes(content)
                commit.files[path.strip("/")] = data
                r.blobs[git_blob_sha(data)] = data
            for path in delete:
                commit.files.pop(path.strip("/"), None)
            if branch:
                r.branches[branch] = sha
            return commit

    def commit_files(
        self,
        repo: str,
        files: Mapping[str, str | bytes],
        *,
        base: str | None = None,
        delete: Iterable[str] = (),
        message: str = "Update files",
        branch: str | None = None,
    ) -> str:
        """Create a new commit with a fresh SHA on top of `base`; returns the SHA."""
        with self.lock:
            seed = f"{repo}|{base}|{message}|{sorted(files)}|{self.new_id()}".encode()
            sha = hashlib.sha1(seed, usedforsecurity=False).hexdigest()
            self.put_files(
                repo, sha, files, base=base, delete=delete, message=message, branch=branch
            )
            return sha

    def set_branch(self, repo: str, branch: str, sha: str) -> None:
        with self.lock:
            r = self.repo(repo)
            r.branches[branch] = sha
            r.commits.setdefault(sha, Commit(sha=sha, message=f"Commit {sha[:7]}"))

    def resolve_ref(self, repo: str, ref: str) -> str | None:
        """Commit SHA for a SHA, unique SHA prefix, branch name or `refs/heads/...`."""
        with self.lock:
            r = self.repo(repo)
            if ref in r.commits:
                return ref
            name = ref.removeprefix("refs/").removeprefix("heads/")
            if name in r.branches:
                return r.branches[name]
            if len(ref) >= 7:
                hits = [sha for sha in r.commits if sha.startswith(ref)]
                if len(hits) == 1:
                    return hits[0]
            return None

    def root_tree(self, repo: str, sha: str) -> str:
        """Build (and index) the git trees of a commit; returns the root tree SHA."""
        with self.lock:
            r = self.repo(repo)
            files = r.commits[sha].files
            return self._build_tree(r, "", files)

    def _build_tree(self, r: Repo, prefix: str, files: Mapping[str, bytes]) -> str:
        blobs: list[tuple[str, str, str, str]] = []
        subdirs: dict[str, dict[str, bytes]] = {}
        for path, data in files.items():
            rel = path[len(prefix) :] if prefix else path
            head, sep, _ = rel.partition("/")
            if sep:
                subdirs.setdefault(head, {})[path] = data
            else:
                sha = git_blob_sha(data)
                r.blobs[sha] = data
                blobs.append(("100644", "blob", head, sha))
        for name, sub in subdirs.items():
            sub_sha = self._build_tree(r, f"{prefix}{name}/", sub)
            blobs.append(("40000", "tree", name, sub_sha))
        tree_sha = git_tree_sha((mode, name, sha) for mode, _, name, sha in blobs)
        r.trees[tree_sha] = sorted(blobs, key=lambda e: e[2])
        return tree_sha

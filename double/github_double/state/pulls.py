"""Pull requests, issues and the comments on them."""

from __future__ import annotations

from collections.abc import Iterable

from github_double.models import Comment, Commit, Issue, NotFound, Pull
from github_double.state.git import GitData


class Pulls(GitData):
    """World methods for pull requests, issues and comments."""

    def add_pull(
        self,
        repo: str,
        *,
        number: int | None = None,
        title: str = "Update",
        body: str | None = "",
        user: str = "octocat",
        head_ref: str = "feature",
        head_sha: str | None = None,
        base_ref: str | None = None,
        base_sha: str | None = None,
        labels: Iterable[str] = (),
        state: str = "open",
        draft: bool = False,
        commits: Iterable[str] | None = None,
        pull_id: int | None = None,
    ) -> Pull:
        """Add a PR; head/base commits are created empty if they do not exist yet."""
        with self.lock:
            r = self.repo(repo)
            base_ref = base_ref or r.default_branch
            base_sha = base_sha or r.branches.get(base_ref) or self.commit_files(repo, {})
            head_sha = head_sha or self.commit_files(repo, {}, base=base_sha)
            for sha in (base_sha, head_sha):
                r.commits.setdefault(sha, Commit(sha=sha, message=f"Commit {sha[:7]}"))
            r.branches.setdefault(base_ref, base_sha)
            r.branches[head_ref] = head_sha
            pull = Pull(
                number=number or r.next_number(),
                id=pull_id or self.new_id(),
                title=title,
                body=body,
                user=self.user(user),
                head_ref=head_ref,
                head_sha=head_sha,
                base_ref=base_ref,
                base_sha=base_sha,
                labels=list(labels),
                state=state,
                draft=draft,
                commits=list(commits) if commits is not None else [head_sha],
            )
            r.pulls[pull.number] = pull
            return pull

    def pull(self, repo: str, number: int) -> Pull:
        with self.lock:
            pull = self.repo(repo).pulls.get(number)
            if pull is None:
                raise NotFound(f"{repo}#{number}")
            return pull

    def add_issue(
        self,
        repo: str,
        *,
        number: int | None = None,
        title: str = "Issue",
        body: str | None = "",
        user: str = "octocat",
        labels: Iterable[str] = (),
        state: str = "open",
    ) -> Issue:
        with self.lock:
            r = self.repo(repo)
            issue = Issue(
                number=number or r.next_number(),
                id=self.new_id(),
                title=title,
                body=body,
                user=self.user(user),
                labels=list(labels),
                state=state,
            )
            r.issues[issue.number] = issue
            return issue

    def add_review(
        self,
        repo: str,
        number: int,
        user: str,
        state: str = "APPROVED",
        commit_id: str | None = None,
        kind: str = "User",
    ) -> None:
        """A review by ``user`` (``APPROVED``, ``CHANGES_REQUESTED``, ``COMMENTED``,
        ``DISMISSED``) on ``commit_id``, the PR's head unless given; rendered when listed."""
        with self.lock:
            r = self.repo(repo)
            pull = r.pulls[number]
            self.user(user, kind)
            self.reviews.setdefault((r.full_name.lower(), number), []).append(
                {
                    "_author": user,
                    "id": self.new_id(),
                    "state": state,
                    "commit_id": commit_id or pull.head_sha,
                }
            )

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        user: str | None = None,
        comment_id: int | None = None,
    ) -> Comment:
        """Add an issue/PR comment; `user=None` means the App's bot posted it."""
        with self.lock:
            self.repo(repo)
            author = self.bot if user is None else self.user(user)
            comment = Comment(
                id=comment_id or self.new_id(),
                repo=self.repo(repo).full_name,
                issue_number=number,
                body=body,
                user=author,
            )
            self.comments_by_id[comment.id] = comment
            return comment

    def comments(self, repo: str, number: int) -> list[Comment]:
        with self.lock:
            return [
                c
                for c in self.comments_by_id.values()
                if c.repo.lower() == repo.lower() and c.issue_number == number
            ]

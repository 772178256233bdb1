"""Token usage from a zipped workflow artifact, read in memory and within limits.

The artifact is uploaded by a workflow anyone with write access can edit, so the zip
is hostile until proven otherwise: it may not be a zip, may name paths outside any
folder, may declare small sizes and inflate to gigabytes, may hold a million
members. Each of those refuses the whole archive with a note (a crafted archive
earns no partial trust); a member that is merely corrupt or encrypted is skipped
alone. Nothing is extracted to disk and no exception escapes.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from bot.core.usage.rollout import ThreadUsage, parse_jsonl

MAX_UNPACKED = 20 * 1024 * 1024
MAX_FILES = 1000
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArtifactRead:
    """The usages of every `*.jsonl` member, threads with none, and every note."""

    usages: tuple[ThreadUsage, ...] = ()
    without_usage: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    files_read: tuple[str, ...] = ()
    refused: bool = False


class _Refused(Exception):
    """The archive as a whole is not to be read; the message says why."""


def unsafe_path(name: str) -> str | None:
    """Why a member's path could land outside the folder it is unpacked into, if it could."""
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is absolute"
    if len(name) >= 2 and name[1] == ":" and name[0].isascii() and name[0].isalpha():
        return "starts with a drive letter"
    if ".." in name.split("/"):
        return "climbs out with .."
    if "\0" in name:
        return "contains a NUL byte"
    return None


def _check_members(infos: list[zipfile.ZipInfo], max_unpacked: int, max_files: int) -> None:
    if len(infos) > max_files:
        raise _Refused(f"it has {len(infos)} members, more than the {max_files} allowed")
    for info in infos:
        why = unsafe_path(info.filename)
        if why:
            raise _Refused(f"member {info.filename[:200]!r} {why}")
    declared = sum(info.file_size for info in infos)
    if declared > max_unpacked:
        raise _Refused(
            f"its members declare {declared} bytes unpacked, more than the {max_unpacked} allowed"
        )


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    """The member's bytes, refusing the archive as soon as they pass `budget`.

    Counted as they inflate, not taken from the header: a header can lie."""
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as member:
        while True:
            chunk = member.read(min(_CHUNK, budget - size + 1))
            if not chunk:
                break
            size += len(chunk)
            if size > budget:
                raise _Refused("its members unpack to more than the size allowed")
            chunks.append(chunk)
    return b"".join(chunks)


def read_usage_zip(
    data: bytes, *, max_unpacked: int = MAX_UNPACKED, max_files: int = MAX_FILES
) -> ArtifactRead:
    """Parse every `*.jsonl` member (any folder depth) with `parse_jsonl`.

    Members are decoded as UTF-8 with replacement, so a stray byte costs a character,
    not the file. On refusal the result carries no usages, only the note saying why.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # BadZipFile, LargeZipFile, OSError, EOFError, ValueError...
        return ArtifactRead(notes=("the artifact is not a readable zip file",), refused=True)

    usages: list[ThreadUsage] = []
    without: list[str] = []
    notes: list[str] = []
    files: list[str] = []
    with archive:
        infos = archive.infolist()
        try:
            _check_members(infos, max_unpacked, max_files)
            used = 0
            for info in infos:
                if info.is_dir() or not info.filename.lower().endswith(".jsonl"):
                    continue
                try:
                    raw = _read_bounded(archive, info, max_unpacked - used)
                except _Refused:
                    raise
                except Exception as exc:  # bad CRC, encrypted, unknown compression, zlib
                    notes.append(f"{info.filename}: skipped, cannot be read ({type(exc).__name__})")
                    continue
                used += len(raw)
                parsed = parse_jsonl(info.filename, raw.decode("utf-8", errors="replace"))
                usages.extend(parsed.usages)
                without.extend(parsed.without_usage)
                notes.extend(parsed.notes)
                files.append(info.filename)
        except _Refused as exc:
            return ArtifactRead(notes=(f"the artifact was refused: {exc}",), refused=True)

    if not files:
        notes.append("the artifact holds no .jsonl file")
    counted = {u.thread_id for u in usages}
    no_usage = tuple(dict.fromkeys(t for t in without if t not in counted))
    return ArtifactRead(tuple(usages), no_usage, tuple(notes), tuple(files))

"""Errors that name exactly what is wrong, so a user can fix it without reading code."""

from __future__ import annotations

import errno

from rbkit.core.errors import RbkitError as RbkitError  # the base lives on the ground floor


class SourceRowError(RbkitError):
    """A malformed upstream row: reported as `file:row field: reason`."""

    def __init__(self, file: str, row: int | str, field: str, reason: str):
        self.file, self.row, self.field, self.reason = file, row, field, reason
        super().__init__(f"{file}:{row} {field}: {reason}")

    @property
    def location(self) -> str:
        return f"{self.file}:{self.row} {self.field}"


class SourceMissingError(RbkitError):
    """An upstream file that is neither in the mirror nor in the cache."""


class SourceHashError(RbkitError):
    """An upstream file whose bytes are not the pinned ones."""


class ToolchainMissingError(RbkitError):
    """A verifier needs a compiler or runtime that is not installed."""


class SchemaViolationError(RbkitError):
    """Rows that do not match `schemas/trio.schema.json`."""


class OutputBusyError(RbkitError):
    """Another process holds the lock of the output folder this one would replace."""


class OutputWriteError(RbkitError):
    """The file system refused a write (full disk, quota, read-only, permissions): one line."""

    @classmethod
    def of(cls, path: object, exc: OSError) -> OutputWriteError:
        what = {
            errno.ENOSPC: "no space left writing",
            errno.EDQUOT: "disk quota exceeded writing",
            errno.EROFS: "read-only file system, cannot write",
            errno.EACCES: "permission denied writing",
            errno.EPERM: "operation not permitted writing",
        }.get(exc.errno or 0, f"{exc.strerror or exc} writing")
        return cls(f"{what} {path}")

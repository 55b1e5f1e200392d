"""Errors meant for the person using reviewkit: each says what went wrong and where."""

from __future__ import annotations


class ReviewkitError(Exception):
    """Base class for problems reported to the user in plain words."""


class FormatError(ReviewkitError):
    """A file could not be read: names the file, the line or record, and what is wrong."""

    def __init__(self, message: str, *, file: str = "", line: int | None = None,
                 record: int | None = None):
        self.reason = message
        self.file = file
        self.line = line
        self.record = record
        where = [file] if file else []
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class DuplicateImportError(ReviewkitError):
    """The same file (same bytes) was already imported into this review."""


class NotFoundError(ReviewkitError):
    """A review, record or other object named by the user does not exist."""

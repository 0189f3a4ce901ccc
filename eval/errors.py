"""Errors the evaluator reports to users: each names the file, row, field or model at fault."""

from __future__ import annotations

from rbkit.core.errors import RbkitError


class DatasetError(RbkitError):
    """A dataset that cannot be scored as given (missing column, bad row, empty subset)."""


class ModelError(RbkitError):
    """A model or tokenizer that cannot be used as asked (no score head, missing files)."""


class TooLongError(RbkitError):
    """Texts longer than the model's context while no `--max-length` policy was chosen."""


class ResultsError(RbkitError):
    """A results folder that is missing, unreadable or does not match the schema."""

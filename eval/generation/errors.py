"""Errors of the generation layer that a user can hit: each names the model, request or URL."""

from __future__ import annotations

from rbkit.core.errors import RbkitError


class GenerationError(RbkitError):
    """A generation run that cannot go on as asked (no chat template, endpoint down, bad ids)."""

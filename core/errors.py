"""The base of every error rbkit reports to users; each floor derives its own from it."""

from __future__ import annotations


class RbkitError(Exception):
    """Base for every error rbkit reports to users (the CLI prints these without a traceback)."""

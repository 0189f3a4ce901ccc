"""JSON Schemas shipped with rbkit, and a tiny loader.

`load("trio")` returns the parsed schema; `validator("trio")` a compiled Draft 2020-12
validator with format checking, cached because building one costs more than using it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

NAMES: tuple[str, ...] = ("trio", "results", "sources", "subset-spec")


@cache
def load(name: str) -> dict[str, Any]:
    if name not in NAMES:
        raise KeyError(f"unknown schema {name!r}; known: {', '.join(NAMES)}")
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())

"""Reading a subset spec file (TOML or YAML) with the line of every key, and checking it
against `schemas/subset-spec.schema.json`.

Parsers give values without positions (tomllib) or positions only on their node tree
(PyYAML), so a `SpecDocument` keeps a line index: key path -> line. Every problem found in a
spec, by the schema or later (an unknown step, a wrong hash, a field missing from a source),
is reported as `file:line field: reason` through `SpecDocument.error`, with the line of the
offending key or, when the key is absent, of the nearest table that should hold it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rbkit.core.digest import sha256_file
from rbkit.core.errors import RbkitError

KeyPath = tuple[str | int, ...]
SPEC_SUFFIXES: tuple[str, ...] = (".toml", ".yaml", ".yml")


class SpecError(RbkitError):
    """A problem in a subset spec: `file:line field: reason`."""

    def __init__(self, file: str, line: int, field: str, reason: str):
        self.file, self.line, self.field, self.reason = file, line, field, reason
        super().__init__(f"{file}:{line} {field}: {reason}")


def field_name(path: KeyPath) -> str:
    """`("steps", 2, "name")` -> `steps[2].name`; the top level is `<spec>`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<spec>"


@dataclass(frozen=True)
class SpecDocument:
    """A parsed spec: its data, its text and digest (recorded in build.json), and key lines."""

    path: Path
    data: dict[str, Any]
    text: str
    sha256: str
    lines: Mapping[KeyPath, int]

    @property
    def label(self) -> str:
        """How errors name the file: as the user gave it."""
        return str(self.path)

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def line_of(self, path: KeyPath) -> int:
        """The line of `path`, else of its nearest ancestor present in the file, else 1."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1

    def error(self, path: KeyPath, reason: str) -> SpecError:
        return SpecError(self.label, self.line_of(path), field_name(path), reason)


# --- loading -----------------------------------------------------------------------------------


def load_spec(path: Path) -> SpecDocument:
    """Parse and schema-check one spec file; any problem raises SpecError."""
    path = Path(path)
    if path.suffix not in SPEC_SUFFIXES:
        raise SpecError(str(path), 1, "<file>", f"a subset spec is a {', '.join(SPEC_SUFFIXES)} file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(str(path), 1, "<file>", f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(str(path), line, "<file>", f"not UTF-8 at byte {exc.start}") from None
    if path.suffix == ".toml":
        data, lines = _parse_toml(path, text)
    else:
        data, lines = _parse_yaml(path, text)
    if not isinstance(data, dict):
        raise SpecError(str(path), 1, "<spec>", f"expected a table of keys, got {type(data).__name__}")
    doc = SpecDocument(path, data, text, sha256_file(path), lines)
    check_schema(doc)
    return doc


def spec_files(path: Path) -> list[Path]:
    """A spec file, or every *.toml/*.yaml/*.yml directly in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
        if not found:
            raise SpecError(str(path), 0, "<folder>", f"no spec files ({', '.join(SPEC_SUFFIXES)}) in this folder")
        return found
    if not path.is_file():
        raise SpecError(str(path), 0, "<file>", "no such spec file or folder")
    return [path]


def _parse_toml(path: Path, text: str) -> tuple[Any, dict[KeyPath, int]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else 1
        raise SpecError(str(path), line, "<toml>", re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)) from None
    return data, toml_line_index(text)


def _parse_yaml(path: Path, text: str) -> tuple[Any, dict[KeyPath, int]]:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(str(path), line, "<yaml>", str(problem)) from None
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    return data, lines


def _yaml_lines(node: Any, path: KeyPath, out: dict[KeyPath, int]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            out.setdefault(sub, key.start_mark.line + 1)
            _yaml_lines(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.setdefault((*path, i), item.start_mark.line + 1)
            _yaml_lines(item, (*path, i), out)


# --- the TOML line index -----------------------------------------------------------------------

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_KEY_PART = re.compile(rf"\s*({_BARE}|{_BASIC}|{_LITERAL})\s*")


def _read_key(line: str, pos: int) -> tuple[list[str], int] | None:
    """A (dotted) key starting at `pos`: its parts and the position after it, or None."""
    parts: list[str] = []
    while True:
        m = _KEY_PART.match(line, pos)
        if not m:
            return None
        token = m.group(1)
        parts.append(token[1:-1] if token[0] in "\"'" else token)
        pos = m.end()
        if pos < len(line) and line[pos] == ".":
            pos += 1
            continue
        return parts, pos


@dataclass
class _Frame:
    path: KeyPath
    array: bool
    count: int = 0


def toml_line_index(text: str) -> dict[KeyPath, int]:
    """Line of every key, table header and array element of a TOML document.

    A structural scan, not a parser (tomllib has already accepted the text): it follows
    headers (`[a.b]`, `[[steps]]`), dotted keys, inline tables and arrays across lines, and
    skips strings, multi-line strings and comments.
    """
    index: dict[KeyPath, int] = {}
    arrays: dict[KeyPath, int] = {}  # [[array]] header counts
    base: KeyPath = ()
    stack: list[_Frame] = []
    ml_close: str | None = None  # the closing quotes of a multi-line string in progress
    for lineno, line in enumerate(text.splitlines(), start=1):
        pos = 0
        if ml_close is not None:
            end = _ml_end(line, 0, ml_close)
            if end < 0:
                continue
            pos, ml_close = end, None
        if not stack:
            header = re.match(r"\s*\[\[\s*(.*?)\s*\]\]\s*(#.*)?$", line) if pos == 0 else None
            table = re.match(r"\s*\[\s*([^\[].*?)\s*\]\s*(#.*)?$", line) if pos == 0 else None
            if header:
                key = _read_key(header.group(1), 0)
                if key:
                    arr = _in_arrays(key[0], arrays)
                    arrays[arr] = arrays.get(arr, -1) + 1
                    index.setdefault(arr, lineno)
                    base = (*arr, arrays[arr])
                    index.setdefault(base, lineno)
                continue
            if table:
                key = _read_key(table.group(1), 0)
                if key:
                    base = _in_arrays(key[0], arrays)
                    for n in range(1, len(base) + 1):
                        index.setdefault(base[:n], lineno)
                continue
        while pos < len(line):
            ch = line[pos]
            if ch in " \t,\r":
                pos += 1
                continue
            if ch == "#":
                break
            if ch in "}]":
                if stack:
                    stack.pop()
                pos += 1
                continue
            frame = stack[-1] if stack else None
            if frame is None or not frame.array:
                key = _read_key(line, pos)
                if key is None:
                    break
                parts, pos = key
                path = (*(frame.path if frame else base), *parts)
                index.setdefault(path, lineno)
                for n in range(len(frame.path if frame else base) + 1, len(path)):
                    index.setdefault(path[:n], lineno)
                pos = _skip_space(line, pos)
                if pos >= len(line) or line[pos] != "=":
                    break
                pos = _skip_space(line, pos + 1)
            else:
                path = (*frame.path, frame.count)
                frame.count += 1
                index.setdefault(path, lineno)
            pos, ml_close = _value(line, pos, path, stack)
            if ml_close is not None:
                break
    return index


def _in_arrays(parts: list[str], arrays: dict[KeyPath, int]) -> KeyPath:
    """A header's key path with the current element of every array of tables it passes
    through: `[steps.params]` after the second `[[steps]]` is ("steps", 1, "params")."""
    path: KeyPath = ()
    for i, part in enumerate(parts):
        path = (*path, part)
        if i < len(parts) - 1 and path in arrays:
            path = (*path, arrays[path])
    return path


def _skip_space(line: str, pos: int) -> int:
    while pos < len(line) and line[pos] in " \t":
        pos += 1
    return pos


def _ml_end(line: str, pos: int, close: str) -> int:
    """Position after the closing quotes of a multi-line string, or -1 if not on this line."""
    i = pos
    while True:
        j = line.find(close, i)
        if j < 0:
            return -1
        if close == '"""' and j > 0 and line[j - 1] == "\\" and (j < 2 or line[j - 2] != "\\"):
            i = j + 1
            continue
        end = j + 3
        while end < len(line) and line[end] == close[0]:  # up to two quotes may end the string
            end += 1
        return end


def _value(line: str, pos: int, path: KeyPath, stack: list[_Frame]) -> tuple[int, str | None]:
    """Skip one value at `pos` (opening a frame for `{` or `[`); returns the new position and
    the closing quotes of a multi-line string that continues on the next line."""
    if pos >= len(line):
        return pos, None
    ch = line[pos]
    if ch == "{":
        stack.append(_Frame(path, array=False))
        return pos + 1, None
    if ch == "[":
        stack.append(_Frame(path, array=True))
        return pos + 1, None
    for quotes in ('"""', "'''"):
        if line.startswith(quotes, pos):
            end = _ml_end(line, pos + 3, quotes)
            return (len(line), quotes) if end < 0 else (end, None)
    if ch in "\"'":
        m = re.compile(_BASIC if ch == '"' else _LITERAL).match(line, pos)
        return (m.end() if m else len(line)), None
    m = re.compile(r"[^,\]}#]*").match(line, pos)
    return (m.end() if m else len(line)), None


# --- the schema check --------------------------------------------------------------------------


def check_schema(doc: SpecDocument) -> None:
    """Raise SpecError for the first schema violation (in file order), naming line and field."""
    from rbkit import schemas

    errors = list(schemas.validator("subset-spec").iter_errors(doc.data))
    if not errors:
        return
    # A misspelt key shows as "unknown key" and as "required key missing": name the typo first.
    located = [(err.validator == "required", _locate(doc, err)) for err in errors]
    located.sort(key=lambda item: (item[0], item[1].line, item[1].field))
    raise located[0][1]


def _locate(doc: SpecDocument, err: Any) -> SpecError:
    path: KeyPath = tuple(err.absolute_path)
    if err.validator == "required":
        missing = _quoted(err.message)
        return doc.error((*path, *missing[:1]), f"required key missing (in {field_name(path)})" if path else "required key missing")
    if err.validator == "additionalProperties":
        extra = [k for k in _quoted(err.message) if k in (_at(doc.data, path) or {})]
        name = extra[0] if extra else ""
        allowed = sorted((err.schema.get("properties") or {}).keys())
        hint = "; did you mean 'license'?" if name == "licence" else ""
        return doc.error((*path, name), f"unknown key (allowed: {', '.join(allowed)}){hint}")
    if err.validator == "oneOf" and len(path) == 2 and path[0] == "sources":
        return doc.error(path, "give exactly one location: `path` (local file), `hub` + `revision` + `file`, or `url`")
    if err.validator == "enum":
        return doc.error(path, f"{err.instance!r} is not one of {', '.join(map(repr, err.validator_value))}")
    if err.validator == "pattern" and path and path[-1] == "sha256":
        return doc.error(path, "expected 64 lowercase hex digits (the output of `sha256sum FILE`)")
    return doc.error(path, err.message)


def _quoted(message: str) -> list[str]:
    return re.findall(r"'([^']*)'", message)


def _at(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def walk_keys(data: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path of parsed data (for tests of the line index)."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*path, k)
            yield from walk_keys(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield (*path, i)
            yield from walk_keys(v, (*path, i))

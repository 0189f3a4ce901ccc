"""Judge prompts: read from the pinned FastChat file or a user's Jinja file, never from code.

The MT-Bench judge prompts are upstream data (`mtbench/judge_prompts.jsonl`, FastChat,
Apache-2.0), pinned like every other source; the command layer resolves the file and hands its
path here. Two prompts are derived from it:
- `pair-v2-no-tie`: `pair-v2` with the tie option taken out of the instructions, the verdict
  being `[[A]]` or `[[B]]`, as the original RewardBench generative evaluation does;
- `single-v1`: one answer graded 1-10 (`[[rating]]`), MT-Bench's single-answer grading and
  rbkit's ratings mode (RewardBench 2 rates each completion on its own).
A Jinja file may replace the user message of either (the system prompt stays); the prompt's
sha256 covers exactly what the model is shown around the texts, so results and the cache
name the prompt by content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rbkit.core.jsonio import canonical_json
from rbkit.eval.errors import DatasetError
from rbkit.eval.generation.types import Message

PromptKind = Literal["pairwise", "single"]
PAIRWISE_BASE = "pair-v2"
PAIRWISE_DEFAULT = "pair-v2-no-tie"
SINGLE_DEFAULT = "single-v1"
# The clause pair-v2 ends its instructions with; the original RewardBench drops it (no ties).
TIE_CLAUSE = ', and "[[C]]" for a tie'
FIELDS: dict[PromptKind, tuple[str, ...]] = {
    "pairwise": ("question", "answer_a", "answer_b"),
    "single": ("question", "answer"),
}


class PromptError(DatasetError):
    """A judge prompt file or template that cannot be used (names the file, line and field)."""


@dataclass(frozen=True)
class JudgePrompt:
    """A system prompt and a user-message template with named fields."""

    name: str
    kind: PromptKind
    system: str
    template: str
    syntax: Literal["format", "jinja"] = "format"  # FastChat's str.format fields, or Jinja
    origin: str = ""  # where it was read: "mtbench/judge_prompts.jsonl#pair-v2", a file path

    @property
    def sha256(self) -> str:
        """What the model is shown around the texts: system prompt, template and its syntax."""
        record = {"kind": self.kind, "system": self.system, "template": self.template, "syntax": self.syntax}
        return hashlib.sha256(canonical_json(record).encode()).hexdigest()

    def to_record(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "kind": self.kind, "origin": self.origin}

    def render(self, **fields: str) -> tuple[Message, ...]:
        """The chat to send: system prompt (when not empty), then the filled-in user message."""
        missing = [f for f in FIELDS[self.kind] if f not in fields]
        if missing:
            raise PromptError(f"judge prompt {self.name}: no value for {', '.join(missing)}")
        if self.syntax == "jinja":
            from jinja2 import UndefinedError

            try:
                user = _jinja_template(self.template, self.origin).render(**fields)
            except UndefinedError as exc:
                raise PromptError(f"{self.origin}: {exc.message} (fields: {', '.join(FIELDS[self.kind])})") from exc
        else:
            user = self.template.format(**fields)
        system = (Message("system", self.system),) if self.system else ()
        return (*system, Message("user", user))


def read_prompt_file(path: Path) -> dict[str, dict[str, Any]]:
    """Every prompt record of a FastChat judge_prompts.jsonl, by name; bad lines are named."""
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PromptError(f"{path}: cannot read the judge prompts ({exc.strerror or exc})") from exc
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptError(f"{path}:{lineno}: not JSON ({exc.msg})") from exc
        if not isinstance(rec, dict):
            raise PromptError(f"{path}:{lineno}: expected an object")
        for key in ("name", "type", "system_prompt", "prompt_template"):
            if not isinstance(rec.get(key), str):
                raise PromptError(f"{path}:{lineno} {key}: expected a string")
        out[rec["name"]] = {**rec, "line": lineno}
    return out


def _record(prompts: Mapping[str, Mapping[str, Any]], name: str, path: Path) -> Mapping[str, Any]:
    if name not in prompts:
        raise PromptError(f"{path}: no judge prompt named {name!r} (has: {', '.join(sorted(prompts))})")
    return prompts[name]


def pairwise_no_tie(path: Path) -> JudgePrompt:
    """`pair-v2` without the tie option: the verdict is `[[A]]` or `[[B]]` (original RewardBench)."""
    rec = _record(read_prompt_file(path), PAIRWISE_BASE, path)
    system = rec["system_prompt"]
    if system.count(TIE_CLAUSE) != 1:
        raise PromptError(f"{path}:{rec['line']} system_prompt: {PAIRWISE_BASE} does not end its verdict format with "
                          f"{TIE_CLAUSE!r}; not the pinned FastChat file")
    return JudgePrompt(PAIRWISE_DEFAULT, "pairwise", system.replace(TIE_CLAUSE, ""), rec["prompt_template"],
                       origin=f"{path.name}#{PAIRWISE_BASE}")


def named_prompt(path: Path, name: str) -> JudgePrompt:
    """Any single-turn prompt of the file by name (`pair-v2`, `single-v1`, `single-math-v1` needs a reference)."""
    if name == PAIRWISE_DEFAULT:
        return pairwise_no_tie(path)
    rec = _record(read_prompt_file(path), name, path)
    kind: PromptKind = "pairwise" if rec["type"] == "pairwise" else "single"
    needed = set(FIELDS[kind])
    used = _format_fields(rec["prompt_template"])
    if used - needed:
        raise PromptError(f"{path}:{rec['line']} prompt_template: {name} needs {', '.join(sorted(used - needed))}, "
                          f"which rbkit does not supply (fields: {', '.join(FIELDS[kind])})")
    return JudgePrompt(name, kind, rec["system_prompt"], rec["prompt_template"], origin=f"{path.name}#{name}")


def _format_fields(template: str) -> set[str]:
    import string

    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def jinja_prompt(template_path: Path, base: JudgePrompt) -> JudgePrompt:
    """`base` with its user message replaced by a Jinja template (fields as in FIELDS[base.kind])."""
    try:
        text = template_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"{template_path}: cannot read the judge template ({exc.strerror or exc})") from exc
    _jinja_template(text, str(template_path))  # a syntax error stops the run before any request
    return JudgePrompt(f"file:{template_path.name}", base.kind, base.system, text, "jinja", str(template_path))


def _jinja_template(text: str, origin: str) -> Any:
    from jinja2 import StrictUndefined, TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    try:
        return env.from_string(text)
    except TemplateSyntaxError as exc:
        raise PromptError(f"{origin}:{exc.lineno}: Jinja syntax error ({exc.message})") from exc


def question_text(prompt: Sequence[tuple[str, str]]) -> str:
    """The question a judge sees: the user message, or a transcript for multi-turn prompts."""
    if len(prompt) == 1 and prompt[0][0] == "user":
        return prompt[0][1]
    return "\n\n".join(f"### {role.capitalize()}:\n{content}" for role, content in prompt)

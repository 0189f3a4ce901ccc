"""Generic text checks for model outputs: empty, truncated, template leaks, encoding, language.

Why: upstream completions carry generation artefacts (cut at a token limit, the chat template
continued, a switch to another language, mojibake) that make a pair easy, or wrong, for
reasons unrelated to the quality difference a subset is meant to test. RewardBench removed
such pairs by hand; rbkit removes them with these explicit checks so each drop is logged with
its reason and the measurement behind it.

Each check is a pure function `(text, ...) -> Finding | None`. The `RowFilter` steps at the
bottom apply them to the sides of a `TrioRow` (prompt, chosen, rejected) and are what subset
builders put in their pipelines. All checks are heuristics with conservative thresholds: they
aim to catch clear artefacts, and the evidence they record lets a reviewer overrule them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rbkit.curation.pipeline import KEEP, Decision, Drop, RowFilter, row_filter
from rbkit.curation.rows import TrioRow

SIDES: tuple[str, ...] = ("prompt", "chosen", "rejected")
RESPONSES: tuple[str, ...] = ("chosen", "rejected")


@dataclass(frozen=True)
class Finding:
    """Why a text fails a check, with the numbers or snippet that show it."""

    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def side_texts(row: TrioRow, sides: Sequence[str] = SIDES) -> Iterator[tuple[str, str]]:
    """(label, text) for each named side; list-valued sides (messages, best-of-N) are expanded."""
    for side in sides:
        value = getattr(row, side)
        if isinstance(value, str):
            yield side, value
            continue
        for i, item in enumerate(value):
            text = item.get("content", "") if isinstance(item, Mapping) else item
            yield f"{side}[{i}]", text


def prompt_text(row: TrioRow) -> str:
    """The prompt as one string (multi-turn prompts joined), for checks that compare to it."""
    return "\n".join(text for _, text in side_texts(row, ("prompt",)))


def _ending(text: str, n: int = 80) -> str:
    """The last `n` characters, kept as evidence exactly (no "..." mark, unlike `rbkit.core.tail`)."""
    return text[-n:]


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- empty -----------------------------------------------------------------------------------


def empty(text: str) -> Finding | None:
    if text.strip():
        return None
    return Finding("empty", {"chars": len(text)})


# --- truncation ------------------------------------------------------------------------------

# Closed-class words a finished English line does not end on (without punctuation). Lower-case
# only: "The answer is A" ends on an option label, not on an article. Auxiliaries and
# quantifiers are left out: "as high as you can", "I don't know what it is" are complete.
DANGLING_WORDS = _wordset(
    """a an the and or but nor of to in on at by for with from into onto upon as than that which
    whose whether if when while because although though since until unless our your their his
    her its my such both each every very"""
)
# Characters a finished text does not end on; "," and ":" only after a prose line ("Yours
# truly," and "Notes:" end letters and templates), ";" never (code ends on it).
OPEN_PUNCT = "([{&"
PROSE_PUNCT = ",:"
PROSE_LINE_WORDS = 4
DANGLING_WORD_LINE_WORDS = 6  # "what we have hoped for" in a list of short phrases is complete
TERMINAL = frozenset('.!?"\')]}`*>|~…»”’')
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_CODE_FENCE = re.compile(r"^\s*```", re.MULTILINE)


def truncation(text: str) -> Finding | None:
    """Signs that a response stops mid-way: an open code block, or a last line that ends on an
    opening bracket, a comma or colon after prose, or a function word.

    A missing final period alone is not a sign: several MT-Bench models' complete answers end
    without one. A cut inside a content word ("...known for their atmospher") is not caught.
    """
    body = text.rstrip()
    if not body:
        return None
    fences = len(_CODE_FENCE.findall(body))
    if fences % 2 == 1:
        return Finding("truncated: unclosed code block (odd number of ``` fences)", {"code_fences": fences, "tail": _ending(body)})
    last_char = body[-1]
    last_line = body.splitlines()[-1]
    line_words = _WORD.findall(last_line)
    if last_char in OPEN_PUNCT or (last_char in PROSE_PUNCT and len(line_words) >= PROSE_LINE_WORDS):
        return Finding("truncated: ends on a dangling punctuation mark", {"last_char": last_char, "tail": _ending(body)})
    if last_char in TERMINAL:
        return None
    if (
        line_words
        and body.endswith(line_words[-1])
        and line_words[-1] in DANGLING_WORDS
        and len(line_words) >= DANGLING_WORD_LINE_WORDS
    ):
        return Finding("truncated: ends on a function word", {"last_word": line_words[-1], "tail": _ending(body)})
    return None


# --- chat-template leakage -------------------------------------------------------------------

# Role markers and special tokens that show a model kept generating the next turn of the
# conversation (or its template) instead of stopping. Case-sensitive on purpose.
TEMPLATE_MARKERS: tuple[str, ...] = (
    "### Human:",
    "### Assistant:",
    "### Instruction:",
    "### Response:",
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|user|>",
    "<|assistant|>",
    "<|eot_id|>",
    "[INST]",
    "[/INST]",
)
_MARKER = re.compile("|".join(re.escape(m).replace(r"\ ", r"\s*") for m in TEMPLATE_MARKERS))


def template_leak(text: str, prompt: str = "") -> Finding | None:
    """A chat-role marker or special token in a response that the prompt itself does not contain."""
    for m in _MARKER.finditer(text):
        marker = m.group(0)
        if marker not in prompt:
            start = max(0, m.start() - 40)
            return Finding(
                "chat template leaked into the response",
                {"marker": marker, "offset": m.start(), "context": text[start : m.end() + 40]},
            )
    return None


# --- encoding --------------------------------------------------------------------------------

# UTF-8 read as Latin-1/cp1252: "Ã©" for "é", "â€™" for "’", "Â°" for "°".
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|â€[\u0080-\u00bf™œ\u009d˜“”¦¢¡¨]|Â[\u00a0-\u00bf]")


def encoding_problem(text: str) -> Finding | None:
    """Replacement characters, control characters, lone surrogates or classic mojibake."""
    bad: dict[str, int] = {}
    for ch in text:
        cp = ord(ch)
        if ch == "\ufffd":
            bad["replacement character U+FFFD"] = bad.get("replacement character U+FFFD", 0) + 1
        elif (cp < 0x20 and ch not in "\t\n\r") or 0x7F <= cp <= 0x9F:
            bad["control character"] = bad.get("control character", 0) + 1
        elif 0xD800 <= cp <= 0xDFFF:
            bad["lone surrogate"] = bad.get("lone surrogate", 0) + 1
    mojibake = _MOJIBAKE.findall(text)
    if mojibake:
        bad["mojibake sequence"] = len(mojibake)
    if not bad:
        return None
    kind = sorted(bad, key=lambda k: (-bad[k], k))[0]
    return Finding(f"broken encoding: {kind}", {"counts": dict(sorted(bad.items())), "examples": sorted(set(mojibake))[:5]})


# --- language --------------------------------------------------------------------------------

NON_LATIN_SHARE = 0.10  # share of letters outside the Latin script above which a text is not English
MIN_LETTERS = 20
# Frequent function words of English and of the Latin-script languages seen in chat data.
# Disjoint on purpose (no "a", "in", "die", "do", "so"...), so a count is evidence for one side.
ENGLISH_WORDS = _wordset(
    """the and of to is are was were that this with for you it be on as have not or by from an at
    your can which will would they their there what how we if but all has been more when about"""
)
FOREIGN_WORDS = _wordset(
    """le la les des du et est une un pour dans qui avec sur pas ce sont vous nous il elle au aux
    mais el los las y que es por para con una del lo su como pero más der das und ist nicht ein
    eine mit sich auf zu dem von für auch ich sie não uma os da em com di che è per sono gli della
    het een van niet dat zijn"""
)
MIN_FOREIGN_WORDS = 8
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|\b[\w.-]+\.(?:com|org|net|io|edu|gov)\b\S*")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def language_problem(text: str) -> Finding | None:
    """Not English: mostly a non-Latin script, or clearly more foreign than English function words.

    Code blocks and URLs are ignored; lists, tables and names (few function words either way) pass.
    """
    prose = _URL.sub(" ", _FENCED.sub(" ", text))
    letters = [ch for ch in prose if ch.isalpha()]
    if len(letters) >= MIN_LETTERS:
        scripts: dict[str, int] = {}
        for ch in letters:
            s = _script(ch)
            if s != "LATIN":
                scripts[s] = scripts.get(s, 0) + 1
        non_latin = sum(scripts.values())
        share = non_latin / len(letters)
        if share > NON_LATIN_SHARE:
            main = sorted(scripts, key=lambda k: (-scripts[k], k))[0]
            return Finding(
                f"not English: {share:.0%} of letters are non-Latin (mostly {main})",
                {"non_latin_share": round(share, 4), "scripts": dict(sorted(scripts.items()))},
            )
    words = [w.lower() for w in _WORD.findall(prose)]
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    foreign = sum(1 for w in words if w in FOREIGN_WORDS)
    if foreign >= MIN_FOREIGN_WORDS and foreign > 1.5 * english:
        return Finding(
            "not English: foreign function words outnumber English ones",
            {"foreign_function_words": foreign, "english_function_words": english, "words": len(words)},
        )
    return None


# --- pairs -----------------------------------------------------------------------------------


def normalized(text: str) -> str:
    """Whitespace-collapsed, case-folded NFKC text: two outputs equal under this are the same answer."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def identical(a: str, b: str) -> Finding | None:
    if normalized(a) != normalized(b):
        return None
    return Finding("chosen and rejected are the same text", {"chars": [len(a), len(b)]})


def length_ratio(chosen: str, rejected: str) -> float:
    """len(chosen) / len(rejected) in characters of stripped text (inf when rejected is empty)."""
    c, r = len(chosen.strip()), len(rejected.strip())
    return c / r if r else float("inf")


# --- steps -----------------------------------------------------------------------------------


def _first(findings: Iterator[tuple[str, Finding | None]]) -> Decision:
    for label, finding in findings:
        if finding is not None:
            return Drop(f"{label}: {finding.reason}", {"side": label, **finding.evidence})
    return KEEP


@row_filter("nonempty")
def nonempty(row: TrioRow) -> Decision:
    """Every side has text."""
    return _first((label, empty(text)) for label, text in side_texts(row))


@row_filter("encoding")
def clean_encoding(row: TrioRow) -> Decision:
    """No side has replacement characters, control characters or mojibake."""
    return _first((label, encoding_problem(text)) for label, text in side_texts(row))


@row_filter("english")
def english(row: TrioRow) -> Decision:
    """Prompt and responses are English (rbkit's chat subsets, like RewardBench's, are English)."""
    return _first((label, language_problem(text)) for label, text in side_texts(row))


@row_filter("complete")
def complete(row: TrioRow) -> Decision:
    """Neither response is cut off; a truncated side is a generation-limit artefact, not quality."""
    return _first((label, truncation(text)) for label, text in side_texts(row, RESPONSES))


@row_filter("no_template_leak")
def no_template_leak(row: TrioRow) -> Decision:
    """Neither response continues the chat template (e.g. "### Human:" turns it invented)."""
    prompt = prompt_text(row)
    return _first((label, template_leak(text, prompt)) for label, text in side_texts(row, RESPONSES))


@row_filter("distinct")
def distinct(row: TrioRow) -> Decision:
    """Chosen and rejected differ (after whitespace and case normalisation)."""
    if isinstance(row.chosen, str) and isinstance(row.rejected, str):
        return _first(iter([("pair", identical(row.chosen, row.rejected))]))
    rejected = {normalized(t) for _, t in side_texts(row, ("rejected",))}
    for label, text in side_texts(row, ("chosen",)):
        if normalized(text) in rejected:
            return Drop(f"{label}: also appears among the rejected completions", {"side": label})
    return KEEP


def length_window(low: float, high: float) -> RowFilter:
    """Keep pairs whose chosen/rejected character-length ratio lies in [low, high].

    For subsets meant to test quality at comparable length, a pair where one side is much
    longer is solved by "pick the longer/shorter" and tests nothing else.
    """
    if not 0 < low <= 1 <= high:
        raise ValueError(f"length window must satisfy 0 < low <= 1 <= high, got [{low}, {high}]")

    def check(row: TrioRow) -> Decision:
        if not (isinstance(row.chosen, str) and isinstance(row.rejected, str)):
            raise TypeError(f"{row.subset}: length_window needs single chosen/rejected strings")
        ratio = length_ratio(row.chosen, row.rejected)
        if low <= ratio <= high:
            return KEEP
        return Drop(
            f"length ratio chosen/rejected outside [{low:g}, {high:g}]",
            {"ratio": round(ratio, 4), "chosen_chars": len(row.chosen.strip()), "rejected_chars": len(row.rejected.strip())},
        )

    return RowFilter(f"length_window[{low:g},{high:g}]", check)


RefusalClassifier = Callable[[str], str]


def _default_refusal_classifier() -> RefusalClassifier:
    from rbkit.curation.verify.refusal import classify

    return classify


def no_refusal(sides: Sequence[str] = ("chosen",), classify: RefusalClassifier | None = None) -> RowFilter:
    """Drop pairs where a named side refuses or partly refuses.

    A capability subset (AlpacaEval, MT-Bench) never prefers a refusal: a chosen refusal makes
    the label depend on safety policy, not helpfulness. `classify(text) -> "comply" | "refuse" |
    "partial"` defaults to `curation.verify.refusal.classify`; its rule and cue go into the
    evidence when the module offers `detect`.
    """
    resolved: list[RefusalClassifier] = [classify] if classify is not None else []

    def check(row: TrioRow) -> Decision:
        if not resolved:
            resolved.append(_default_refusal_classifier())
        fn = resolved[0]
        for label, text in side_texts(row, sides):
            verdict = fn(text)
            if verdict not in ("comply", "refuse", "partial"):
                raise ValueError(f"refusal classifier returned {verdict!r} for {row.subset} {label}")
            if verdict != "comply":
                evidence: dict[str, Any] = {"side": label, "label": verdict}
                if classify is None:
                    from rbkit.curation.verify import refusal

                    detect = getattr(refusal, "detect", None)
                    if detect is not None:
                        evidence.update(detect(text).to_detail())
                return Drop(f"{label}: {'partial refusal' if verdict == 'partial' else 'refusal'}", evidence)
        return KEEP

    return RowFilter("no_refusal[" + ",".join(sides) + "]", check)


# The standard artefact filters for single-turn chat pairs, in the order they are reported.
CHAT_ARTEFACT_FILTERS: tuple[RowFilter, ...] = (nonempty, clean_encoding, english, complete, no_template_leak, distinct)

"""Prior Sets from lmsys/mt_bench_human_judgments: expert (`human`) and GPT-4 (`gpt4_pair`) verdicts.

Not the Chat-section MT-Bench subsets (`subsets.mtbench`), which pair answers by their GPT-4
scores; these are pairwise judgments, one judge's verdict on one turn of two answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rbkit.curation.errors import SourceRowError
from rbkit.curation.pipeline import BuildContext
from rbkit.curation.registry import register_subset
from rbkit.curation.sources import SourceFile
from rbkit.subsets.prior_sets import (
    SECTION,
    Message,
    Row,
    alternates,
    from_files,
    make_row,
    parquet_rows,
    unusable,
)

MTBENCH_HUMAN = SourceFile(
    name="mt_bench_human_judgments/human",
    kind="hub-dataset",
    repo="lmsys/mt_bench_human_judgments",
    revision="61a35fc4ccb7094b60562bf3d82341080ea68201",
    path="data/human-00000-of-00001-25f4910818759289.parquet",
    sha256="4877bc46a40929f4082c3c79593700fb897b1d6c7f4c473032694a01322f5769",
    license="CC-BY-4.0",
    citation="zheng2023judging",
    mirror_path="prior_sets/mt_bench_human_judgments/human.parquet",
    size=738612,
)
MTBENCH_GPT4 = SourceFile(
    name="mt_bench_human_judgments/gpt4_pair",
    kind="hub-dataset",
    repo="lmsys/mt_bench_human_judgments",
    revision="1b0755c6df92be037f5416bb8fcb5e9b8a539be5",
    path="lmsys--mt_bench_human_judgments/parquet-gpt4_pair.parquet",
    sha256="57068327ffb5f8fddb15fedbbfe40b26fe862da2326331e5cf64a42320a00e71",
    license="CC-BY-4.0",
    citation="zheng2023judging",
    mirror_path="prior_sets/mt_bench_human_judgments/gpt4_pair.parquet",
    size=649996,
)


MTBENCH_COLUMNS = ("question_id", "model_a", "model_b", "winner", "judge", "conversation_a", "conversation_b", "turn")


def mtbench_rows(subset: str, src: SourceFile, path: Path, ctx: BuildContext) -> Iterator[Row]:
    """MT-Bench pairwise judgments. Each row is one judge's verdict on one turn of two answers.

    Turn-1 judgments become pairs. Ties carry no preference, and turn-2 judgments compare two
    conversations whose first answers differ (so no single prompt precedes both responses):
    both are dropped at the source with that reason.
    """
    label = src.mirror_path
    for row, rec in parquet_rows(path, label, MTBENCH_COLUMNS):
        try:
            winner = rec.get("winner")
            if not isinstance(winner, str):
                raise SourceRowError(label, row, "winner", f"expected a string, got {winner!r}")
            turn = rec.get("turn")
            if turn not in (1, 2):
                raise SourceRowError(label, row, "turn", f"expected 1 or 2, got {turn!r}")
            conv_a = _conversation(rec, "conversation_a", label, row)
            conv_b = _conversation(rec, "conversation_b", label, row)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        facts = {"question_id": rec.get("question_id"), "judge": rec.get("judge"), "turn": turn, "winner": winner}
        if winner not in ("model_a", "model_b"):
            yield unusable(subset, label, row, f"no preference: winner is {winner!r}", facts)
            continue
        end = 2 * turn
        if len(conv_a) < end or len(conv_b) < end:
            yield ctx.bad_row(SourceRowError(label, row, "conversation_a", f"fewer than {end} messages for turn {turn}"))
            continue
        if conv_a[: end - 1] != conv_b[: end - 1]:
            yield unusable(subset, label, row, f"turn {turn}: the conversations differ before the judged answer", facts)
            continue
        a_wins = winner == "model_a"
        win, lose = (conv_a, conv_b) if a_wins else (conv_b, conv_a)
        chosen, rejected = win[end - 1]["content"], lose[end - 1]["content"]
        if not chosen.strip() or not rejected.strip():
            yield unusable(subset, label, row, "empty answer", facts)
            continue
        yield make_row(
            subset,
            src,
            f"{Path(src.path).stem}#{row - 1}",
            conv_a[: end - 1],
            chosen,
            rejected,
            source="mt_bench_human_judgments",
            chosen_model=str(rec["model_a"] if a_wins else rec["model_b"]),
            rejected_model=str(rec["model_b"] if a_wins else rec["model_a"]),
            extra=facts,
        )


def _conversation(rec: Mapping[str, Any], field: str, label: str, row: int) -> list[Message]:
    conv = rec.get(field)
    if not isinstance(conv, list) or not conv:
        raise SourceRowError(label, row, field, "expected a non-empty list of messages")
    out = []
    for i, msg in enumerate(conv):
        if not isinstance(msg, Mapping) or msg.get("role") not in ("user", "assistant") or not isinstance(msg.get("content"), str):
            raise SourceRowError(label, row, f"{field}[{i}]", f"expected {{role: user|assistant, content: str}}, got {msg!r}"[:200])
        out.append({"role": msg["role"], "content": msg["content"]})
    if not alternates(out):
        raise SourceRowError(label, row, field, "roles do not alternate user/assistant")
    return out


@register_subset(
    name="mtbench_human",
    section=SECTION,
    source="mt_bench_human_judgments",
    license="CC-BY-4.0",
    expected=3355,
    sources=(MTBENCH_HUMAN,),
    description="MT-Bench expert human pairwise judgments (turn 1, ties dropped).",
)
def build_mtbench_human(ctx: BuildContext) -> Iterator[Row]:
    return from_files("mtbench_human", (MTBENCH_HUMAN,), mtbench_rows, ctx)


@register_subset(
    name="mtbench_gpt4",
    section=SECTION,
    source="mt_bench_human_judgments",
    license="CC-BY-4.0",
    expected=2400,
    sources=(MTBENCH_GPT4,),
    description="MT-Bench GPT-4 pairwise judgments (turn 1, ties dropped).",
)
def build_mtbench_gpt4(ctx: BuildContext) -> Iterator[Row]:
    return from_files("mtbench_gpt4", (MTBENCH_GPT4,), mtbench_rows, ctx)

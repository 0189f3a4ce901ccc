"""Why the two evaluators disagree on a pair: replay the original's exact tokens through rbkit.

The original's harness records the token ids each of its rows really carried (and, for DPO,
where its labels start). For every pair on which the decisions differ, plus a few agreeing
pairs as a control, those tokens are scored by rbkit's own scorer. When that replay gives
the original's decision, the disagreement comes from the inputs, and the token difference is
spelled out (doubled BOS, header tokens counted as response, appended EOS, truncation);
when the inputs are identical, the margins show whether it is fp32 rounding at a near-tie.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONTROLS = 5


@dataclass
class Replay:
    index: int
    scores: list[float]  # rbkit's scorer on the original's tokens


def _show(tok: Any, ids: list[int], limit: int = 60) -> str:
    text = tok.decode(ids)
    return repr(text if len(text) <= limit else text[: limit // 2] + "..." + text[-limit // 2 :])


def describe_difference(tok: Any, orig: list[int], orig_start: int, mine: list[int], mine_start: int,
                        scored_from_start: bool) -> str:
    """Human-readable token difference between the original's and rbkit's sequence of one completion."""
    if orig == mine and (not scored_from_start or orig_start == mine_start):
        return "identical tokens"
    notes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, orig, mine, autojunk=False).get_opcodes():
        where = "start" if i1 == 0 else ("end" if i2 == len(orig) else f"token {i1}")
        if op == "delete":
            notes.append(f"original adds {_show(tok, orig[i1:i2])} at the {where}")
        elif op == "insert":
            notes.append(f"original lacks {_show(tok, mine[j1:j2])} at the {where} (truncated?)")
        elif op == "replace":
            notes.append(f"at the {where} original has {_show(tok, orig[i1:i2])}, rbkit {_show(tok, mine[j1:j2])}")
    if scored_from_start:
        notes.append(_scored_span(tok, orig[orig_start:], mine[mine_start:]))
    return "; ".join(n for n in notes if n) or "same tokens, different response start"


def _scored_span(tok: Any, o_resp: list[int], m_resp: list[int]) -> str:
    """How the original's scored response tokens differ from rbkit's (extra tokens around them)."""
    if o_resp == m_resp:
        return ""
    n = len(m_resp)
    for lead in range(len(o_resp) - n + 1):
        if o_resp[lead : lead + n] == m_resp:
            trail = len(o_resp) - lead - n
            parts = [f"{k} token(s) before the response ({_show(tok, o_resp[:lead])})" if side == "before"
                     else f"{k} after it ({_show(tok, o_resp[lead + n:])})"
                     for side, k in (("before", lead), ("after", trail)) if k]
            return "original also scores " + " and ".join(parts)
    return f"original scores {len(o_resp)} response tokens, rbkit {n} (different spans)"


def replay(kind: str, model_dir: Path, sample: Path, orig: dict[str, Any], indices: list[int],
           reduction: str) -> tuple[list[Replay], Any, list[Any]]:
    """rbkit's scorer on the original's tokens for `indices`; also rbkit's own encodings."""
    from rbkit.eval.batching import collate
    from rbkit.eval.data import load_file
    from rbkit.eval.render import EncodedPair, Renderer
    from rbkit.eval.runner import EvalConfig, load_scorer

    cfg = EvalConfig(model=str(model_dir), kind=kind, reduction=reduction, device="cpu", progress=False)
    scorer, *_ = load_scorer(cfg, lambda _msg: None)
    renderer = Renderer(scorer.tokenizer, None, context_length=scorer.context_length)
    pairs = load_file(sample).pairs
    encoded = renderer.encode(pairs, boundaries=scorer.needs_boundaries)
    out = []
    for i in indices:
        enc = EncodedPair([list(s) for s in orig["sequences"][i]], list(orig["starts"][i]))
        batch = collate([0], [enc], scorer.pad_id)
        out.append(Replay(i, [float(x) for x in scorer.score(batch).tolist()]))
    return out, scorer.tokenizer, encoded


def explain(kind: str, model_dir: Path, sample: Path, orig: dict[str, Any], mine: dict[str, Any],
            reduction: str) -> dict[str, Any]:
    """Per disagreement: margins, the replayed decision and the input difference."""
    n = len(orig["results"])
    differ = [i for i in range(n) if orig["results"][i] != mine["results"][i]]
    controls = [i for i in range(n) if orig["results"][i] == mine["results"][i]][:CONTROLS]
    replays, tok, encoded = replay(kind, model_dir, sample, orig, differ + controls, reduction)
    by_index = {r.index: r for r in replays}
    dpo = kind == "dpo"
    # the input difference of every pair, as patterns (numbered by how many pairs show them)
    diffs = [
        tuple(describe_difference(tok, orig["sequences"][i][j], orig["starts"][i][j], encoded[i].sequences[j],
                                  encoded[i].starts[j], dpo) for j in (0, 1))
        for i in range(n)
    ]
    counts = Counter(d for d in diffs if d != ("identical tokens", "identical tokens"))
    number = {d: k for k, (d, _) in enumerate(counts.most_common(), start=1)}
    rows = []
    for i in differ:
        r = by_index[i]
        replay_decision = int(r.scores[0] > r.scores[1])
        o_margin = orig["scores_chosen"][i] - orig["scores_rejected"][i]
        m_margin = mine["scores_chosen"][i] - mine["scores_rejected"][i]
        if diffs[i] not in number:
            reason = (f"same tokens; a near-tie (margins {o_margin:+.2e} vs {m_margin:+.2e}) flipped by fp32 "
                      "rounding in differently shaped batches")
        else:
            verdict = "reproduces" if replay_decision == orig["results"][i] else "does NOT reproduce"
            reason = f"inputs differ (pattern {number[diffs[i]]}); the replay {verdict} the original's decision"
        rows.append({
            "id": orig["ids"][i],
            "subset": orig["subsets"][i],
            "reason": reason,
            "original_margin": o_margin,
            "rbkit_margin": m_margin,
            "replay_margin": r.scores[0] - r.scores[1],
            "replay_gives_original_decision": replay_decision == orig["results"][i],
        })
    control_err = max(
        (abs(by_index[i].scores[j] - orig[k][i]) for i in controls for j, k in ((0, "scores_chosen"), (1, "scores_rejected"))),
        default=0.0,
    )
    return {
        "rbkit_response_tokens": sum(len(s) - max(1, st) for e in encoded for s, st in zip(e.sequences, e.starts, strict=True)),
        "pairs_with_identical_inputs": n - sum(counts.values()),
        "input_patterns": {str(k): {"pairs": counts[d], "chosen": d[0], "rejected": d[1]} for d, k in number.items()},
        "disagreements": rows,
        "explained_by_inputs": sum(1 for r in rows if r["replay_gives_original_decision"]),
        "control_replay_max_abs_diff": control_err,
        "control_pairs": len(controls),
    }

"""`rbkit report ... --format md`: the leaderboard as Markdown for a README or a model card."""

from __future__ import annotations

from collections.abc import Sequence

from rbkit.eval.leaderboard import Leaderboard, cell_text


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_escape(h) for h in header) + " |",
             "|" + "|".join(":---" if i < 2 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(_escape(c) for c in r) + " |" for r in rows]
    return lines


def leaderboard_markdown(boards: Sequence[Leaderboard]) -> str:
    """Per benchmark: overall and sections with 95% CIs, then subsets; notes on marks."""
    out: list[str] = []
    for board in boards:
        out.append(f"## {board.title}")
        out.append("")
        head_cols = [c for c in board.columns if c.group != "subset"]
        sub_cols = [c for c in board.columns if c.group == "subset"]
        out += _table(["Model", "Comparability", *(c.label for c in head_cols)],
                      [[r.name, ", ".join(r.flags), *(cell_text(r.cells[c.key]) for c in head_cols)] for r in board.rows])
        if sub_cols:
            out += ["", "Subsets (accuracy, 95% CI):", ""]
            out += _table(["Model", "Comparability", *(c.label for c in sub_cols)],
                          [[r.name, ", ".join(r.flags), *(cell_text(r.cells[c.key]) for c in sub_cols)] for r in board.rows])
        out.append("")
        labels = sorted({r.label for r in board.rows if not r.label.endswith(" overall")})
        out.append("Accuracy in percent with 95% bootstrap CI. — not scored; * incomplete section or overall.")
        out += [f"- {r.name}: {r.label}" for r in board.rows if r.label in labels]
        out.append("")
    return "\n".join(out).rstrip() + "\n"

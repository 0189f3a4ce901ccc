"""Human review of candidate pairs in Argilla, with the decisions carried back into builds.

The curator's loop:

    rbkit review serve                          # local Argilla (or --api-url/--api-key for a team's)
    rbkit review push out/ --subset llmbar-natural   # --blind: answers as A/B (A-D), label hidden
    ... label pairs in the browser ...
    rbkit review pull out/                      # provenance, swaps, drops, decisions, agreement
    rbkit build llmbar --out out/ --review-decisions out/review   # a rebuild keeps the decisions

Modules, one job each:
- `connection`: which server, and a bounded check that it answers and accepts the key;
- `pairs`: the label vocabulary, content hash, swaps, suggestions from verification;
- `layout`: labelled or blind, pairs or best-of-N: fields, questions, the seeded blind order,
  answers mapped back to the row's sides;
- `blind`: the blind orders a push showed, kept in `BUILD_DIR/review/blind.jsonl`;
- `dataset`: the Argilla dataset (settings, guidelines and records for a layout);
- `push` / `pull`: the two commands; `audit`: which pairs most models get wrong;
- `decisions`: the decisions file and `apply_decisions` / `ReviewDecisionsStep` for builds;
- `agreement`: percent agreement and Cohen's kappa between reviewers; blind agreement with the label;
- `buildio`: reading and atomically rewriting the build folder (through `curation.build`);
- `local_server`, `server_venv`, `server_plugin/`: `rbkit review serve`.
"""

from rbkit.curation.review.decisions import (
    Decision,
    ReviewDecisionsStep,
    apply_decisions,
    read_decisions,
)

__all__ = ["Decision", "ReviewDecisionsStep", "apply_decisions", "read_decisions"]

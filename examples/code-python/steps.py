"""A step of the code example's own: the reference program must pass its tests too.

`pairing.chosen_from = "reference"` makes the canonical solution chosen without running it;
`verify:code-candidates` runs only the generated candidates. This candidate-stage step runs
each group's reference (the canonical solution as a complete program) in the same sandbox,
with the same verdict cache, and keeps a group only when the reference passes. A group
whose reference fails is dropped whole, every candidate with the reference's verdict as
evidence, so no row's chosen side is unverified. The verdict is copied into the group's
`extra`, so each row's provenance says how its chosen program fared.

Loaded with the spec by `--plugin`, the way any project adds steps without touching rbkit
(an installed package names the module in the `rbkit.steps` entry-point group instead):

    rbkit build --plugin examples/code-python/steps.py --spec examples/code-python/spec.toml --out out-code
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rbkit.curation.candidate_verify import verify_code
from rbkit.curation.candidates import Candidate, CandidateGroup
from rbkit.curation.pairing import candidate_drop
from rbkit.curation.steps_registry import GroupStepResult, register_step

STEP = "examples:verify-reference-code"


@dataclasses.dataclass(frozen=True)
class VerifyReferenceCode:
    """Run each group's reference program; keep the group only when it passes."""

    language: str = "python"
    name: str = STEP

    def __call__(self, groups: list[CandidateGroup], ctx: Any) -> GroupStepResult:
        if ctx.options.skip_verify:
            raise RuntimeError(f"{self.name}: the reference must be verified; build without --skip-verify")
        probes = [
            dataclasses.replace(g, candidates=[Candidate(0, g.reference or "", "reference")]) for g in groups
        ]
        judged = verify_code(
            probes, language=self.language, cache_dir=ctx.options.cache_dir, jobs=ctx.options.jobs,
            allow_sandbox_network=ctx.options.allow_sandbox_network,
        )
        kept: list[CandidateGroup] = []
        dropped = []
        verdicts: dict[str, int] = {}
        for group, probe in zip(groups, judged, strict=True):
            (record,) = probe.candidates[0].verdicts.values()
            verdicts[record["verdict"]] = verdicts.get(record["verdict"], 0) + 1
            summary = {"verdict": record["verdict"], **record["detail"]}
            if record["status"] == "correct":
                extra = {**(group.meta.get("extra") or {}), "reference_verdict": summary}
                kept.append(dataclasses.replace(group, meta={**group.meta, "extra": extra}))
                continue
            reason = f"reference program does not pass its tests ({record['verdict']})"
            dropped += [
                candidate_drop(group, c, subset=ctx.subset, step=self.name, reason=reason, extra={"reference": summary})
                for c in group.candidates
            ]
        return GroupStepResult(kept, dropped, {"references": dict(sorted(verdicts.items()))})


@register_step(STEP, stage="candidates")
def verify_reference_code(language: str = "python") -> VerifyReferenceCode:
    """Run each group's reference program in the sandbox; drop the group unless it passes."""
    return VerifyReferenceCode(language)

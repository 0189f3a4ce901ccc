"""MT-Bench (Zheng et al., 2023): mt-bench-easy, -med (Chat) and -hard (Chat Hard).

Pairs are two models' turn-1 answers to the same MT-Bench question, ordered by GPT-4's
single-answer grade (judge ["gpt-4", "single-v1"], 1-10): easy 10 vs 1, medium 9 vs 2-5, hard
7-8 vs 5-6 (bounds inclusive; GPT-4 sometimes grades in half points). As in RewardBench (28/45/45
candidates, at most one per question), one pair per question is kept, chosen by a seeded hash
among the candidates that survive the artefact filters; the published sizes (28/40/37) are
then selected the same way. RewardBench filtered by hand; rbkit logs each automatic drop.

Inputs: the 80 questions (lm-sys/FastChat), the original answer files (31 in the mirror, from a
FastChat fork that committed the Hub space's files), and, only on the Hub space lmsys/mt-bench,
the GPT-4 judgments and three Llama-2-chat answer files. No sha256 was ever published for those
four: the judgments are pinned by their git blob id (`SourceFile.git_sha1`), and every answer
this builder pairs, Llama-2 ones included, must be the exact text GPT-4 graded, as quoted in
the judgment's `user_prompt`; the question text is checked the same way. So the blob-pinned
judgment file pins everything derived from it, whatever the space's `main` serves later.

One module on purpose (over 400 lines): the three subsets share one source family, and its
readers, the graded-text check and the pairing only make sense together; split, each part
would need the others' types. (The Prior Sets' MT-Bench judgments are `mtbench_judgments.py`.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rbkit.curation.dedup import DedupStep
from rbkit.curation.errors import SourceMissingError, SourceRowError
from rbkit.curation.pipeline import BuildContext, BuildOptions, SelectStep, Step, StepResult, drop
from rbkit.curation.readers import jsonl_rows, text_field
from rbkit.curation.registry import SubsetSpec, register_source, register_subset
from rbkit.curation.rows import DroppedRow, Provenance, TrioRow, canonical_json, stable_id
from rbkit.curation.sources import SourceFile, resolve, sha256_file
from rbkit.curation.text_filters import CHAT_ARTEFACT_FILTERS, no_refusal

if TYPE_CHECKING:
    import polars as pl  # loads when a builder runs, not when it registers

BUILDER = "subsets.mtbench"
BUILDER_VERSION = "1"
LICENSE = "Apache-2.0"  # FastChat's licence; the space republishes FastChat's MT-Bench data
CITATION = "zheng2023judging"
JUDGE: tuple[str, str] = ("gpt-4", "single-v1")
DEDUP_THRESHOLD = 0.8

QUESTIONS = SourceFile(
    name="mtbench/question",
    kind="github",
    repo="lm-sys/FastChat",
    revision="0e6d3e4beaab66f4d3f93db72541a4abab8af28d",
    path="fastchat/llm_judge/data/mt_bench/question.jsonl",
    sha256="119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7",
    license=LICENSE,
    citation=CITATION,
    mirror_path="mtbench/question.jsonl",
    size=48929,
)

# The MT-Bench judge prompts (pair-v2, single-v1, ...): generative judges read them
# (`rbkit eval --kind judge`, `rbkit judge mtbench`), never a copy of their text in code.
JUDGE_PROMPTS = register_source(SourceFile(
    name="mtbench/judge_prompts",
    kind="github",
    repo="lm-sys/FastChat",
    revision="0e6d3e4beaab66f4d3f93db72541a4abab8af28d",
    path="fastchat/llm_judge/data/judge_prompts.jsonl",
    sha256="fd283293406d024f44c174b094ef48031d0687a4682fd3a56b29b138f80281b6",
    license=LICENSE,
    citation=CITATION,
    mirror_path="mtbench/judge_prompts.jsonl",
    size=10449,
))

# The Hub space holds the judgments and the Llama-2 answers. Its commit holding the pinned blob
# is not known offline, so files are fetched from `main` and checked by content (see above).
SPACE = "lmsys/mt-bench"
SPACE_REVISION = "main"
JUDGMENTS = SourceFile(
    name="mtbench/gpt-4_single",
    kind="hub-space",
    repo=SPACE,
    revision=SPACE_REVISION,
    path="data/mt_bench/model_judgment/gpt-4_single.jsonl",
    sha256="",
    git_sha1="27e87565ea0206b6fbe7987d9c2220257b90b1f2",  # as committed in FastChat forks
    license=LICENSE,
    citation=CITATION,
    mirror_path="mtbench/model_judgment/gpt-4_single.jsonl",
)

FORK = "alvarobartt/FastChat"
FORK_REVISION = "b25947e558e8d85aae4bc617269a8e66290353e1"
# model -> (sha256, bytes) of data/mt_bench/model_answer/<model>.jsonl at FORK_REVISION
MIRRORED_ANSWERS: dict[str, tuple[str, int]] = {
    "alpaca-13b": ("80f4a8bf4665839d33fa0ea7f4b58824abf88d5a0edc9e7cc68a362fca88ef98", 66179),
    "baize-v2-13b": ("062eb0b865a8b903e0d434a59ed8a7b58c74fcf57de154858f9ca00788758e4e", 176040),
    "chatglm-6b": ("2785d99500d910bf0154f64947743e12c9cf20fdba6c160c314c099e0d03dfb9", 188210),
    "claude-instant-v1": ("e06bbf0f8c02cc56cf0508312627b8e552df1e4e5c061a9dc236f73c0d053bac", 165065),
    "claude-v1": ("884c109de34721859bf7ffa0f7e525dfbc9fb0d99c1ee7c5488bfb2eb8f8c62c", 174683),
    "dolly-v2-12b": ("5b1fd3f5c56bdeab746576067412c503ee5030e89456870219fed04fd1040056", 90490),
    "falcon-40b-instruct": ("efcabc647b32a600d845b6bc85573facf70ef566b6c4d1ad2cecfb46c897a2ea", 103875),
    "fastchat-t5-3b": ("4e65d40093631aa0c55703f0df528ac6d4225097e42d8694f49b11d2b89e889b", 179585),
    "gpt-3.5-turbo": ("c3c097c21f91e4b44a554d82e5d47516daf7e8240e13b2eca79d211afc1fdfd6", 158274),
    "gpt-4": ("f65cdce00aa8567e9add118cabd34c2866291ed8f5c1d568f8da9a81d231d3e7", 199046),
    "gpt4all-13b-snoozy": ("d6a341c37224e166bd65c44df6c189f42e756221ad3975164934f336d1bd1bec", 142831),
    "guanaco-33b": ("5f8856d1e57c56a474e2dcd487684ff99f02cff8905ef8a2e1b6601f9d5819e9", 191904),
    "guanaco-65b": ("5b3123555399be437eba9fe49c2f6f09c9ac6a497f3dee96299f4565036ed2b4", 182083),
    "h2ogpt-oasst-open-llama-13b": ("0cf8c355a944f791b708f834d139c87e7f4cd97a0e7e12d03e5d64b235e96204", 162814),
    "koala-13b": ("f1dacd010bec3e87ec6f1160c285bfe42f1acbaa9947a4debe5360778ff1b5aa", 191839),
    "llama-13b": ("b96b9f1e0a7e4e669fecfecda1c33908fdc4c095e38346e84352ea254c0b2cbc", 130031),
    "mpt-30b-chat": ("2adb32470a79ca17060d14c6fb88ea1b9b4bc10d4589778715fe88c96cfe2aa8", 161080),
    "mpt-30b-instruct": ("df81b38aa8b7f7d6c5f214e72ee568284f5c6bb7da74a8cb45662b7a067f5415", 93609),
    "mpt-7b-chat": ("7171e42d926a99ea1d7fd804fb19ee367d00c6be81f38bb450bd90cd0df4a772", 133659),
    "nous-hermes-13b": ("d953f206fd86f600af32668c6b6c6785006497df8aa745d96aef2fdca5b31310", 117962),
    "oasst-sft-4-pythia-12b": ("5b22cc8495a15bbe69361bbf30782f3b2f69361321989667a8abb9fb3e73ce9e", 120593),
    "oasst-sft-7-llama-30b": ("6ec66e7839da733be995feb6a5d42df315d2eda3a85bc27cad6bba429841e1d0", 138342),
    "palm-2-chat-bison-001": ("4cad39fcf55f853fc101d00950af2f8ba311def8729b076ac633f2ae70d39adf", 120417),
    "rwkv-4-raven-14b": ("7f5305dec94c457feaf326d28491c1aedfdd66965044c1b3f654699cebcb5071", 186336),
    "stablelm-tuned-alpha-7b": ("d8f0cbb4e3292e65e6425a717644fad155d11b8feb73ee9620cd0fecfc808016", 395624),
    "tulu-30b": ("3b7c238738787979606feaa3b4e154140e0dd152e01f257ef2f8749aa5bef2df", 131454),
    "vicuna-13b-v1.3": ("0a9bb7f7505d096e32b8a81f89b322cc09bb76d896484150844ce0787cc4caf5", 187075),
    "vicuna-33b-v1.3": ("4dbf2db582d8e9ddcc8b321c55cc40fd26487fe2a4a821e60dce10160b383f2c", 232457),
    "vicuna-7b-v1.3": ("1b4518114b6c20e1d648f450cf7de0ced2678456a36bea5878b1e0d8471f184d", 185331),
    "wizardlm-13b": ("a15b5b2521fadf1a30f71e7d906aabb123f33de499129bc26eda0e8fa1aadc80", 155429),
    "wizardlm-30b": ("e962ab5531c625ccf704c72396b67c4534fdf3775aeb89ea86e08c158bf18c49", 161413),
}
SPACE_ONLY_ANSWERS: tuple[str, ...] = ("Llama-2-7b-chat", "Llama-2-13b-chat", "Llama-2-70b-chat")
ANSWER_CHECK = "every turn-1 answer used must equal the one quoted in the git-blob-pinned GPT-4 judgment (subsets.mtbench)"


def mirrored_answer(model: str) -> SourceFile:
    sha256, size = MIRRORED_ANSWERS[model]
    return SourceFile(
        name=f"mtbench/answer/{model}",
        kind="github",
        repo=FORK,
        revision=FORK_REVISION,
        path=f"data/mt_bench/model_answer/{model}.jsonl",
        sha256=sha256,
        license=LICENSE,
        citation=CITATION,
        mirror_path=f"mtbench/model_answer/{model}.jsonl",
        size=size,
    )


def space_answer(model: str) -> SourceFile:
    return SourceFile(
        name=f"mtbench/answer/{model}",
        kind="hub-space",
        repo=SPACE,
        revision=SPACE_REVISION,
        path=f"data/mt_bench/model_answer/{model}.jsonl",
        sha256="",
        pinned_by=ANSWER_CHECK,
        license=LICENSE,
        citation=CITATION,
        mirror_path=f"mtbench/model_answer/{model}.jsonl",
    )


@dataclass(frozen=True)
class MTBenchSources:
    """The files one build reads; tests substitute fixture files with their own pins."""

    questions: SourceFile
    judgments: SourceFile
    answers: tuple[tuple[str, SourceFile], ...]  # (model as the judgments name it, its file)
    judge: tuple[str, str] = JUDGE  # whose grades define the bands; another one makes a substitute

    def all(self) -> tuple[SourceFile, ...]:
        return (self.questions, self.judgments, *(src for _, src in self.answers))


SOURCES = MTBenchSources(
    questions=QUESTIONS,
    judgments=JUDGMENTS,
    answers=tuple(
        sorted(
            [(m, mirrored_answer(m)) for m in MIRRORED_ANSWERS] + [(m, space_answer(m)) for m in SPACE_ONLY_ANSWERS]
        )
    ),
)


@dataclass(frozen=True)
class Band:
    """One subset: the grade range of the chosen and of the rejected answer (inclusive)."""

    subset: str
    section: str
    chosen: tuple[float, float]
    rejected: tuple[float, float]
    expected: int


BANDS: tuple[Band, ...] = (
    Band("mt-bench-easy", "Chat", (10, 10), (1, 1), 28),
    Band("mt-bench-med", "Chat", (9, 9), (2, 5), 40),
    Band("mt-bench-hard", "Chat Hard", (7, 8), (5, 6), 37),
)


def require(sources: MTBenchSources) -> dict[str, Path]:
    """Resolve every input, or fail once naming every missing file and how to get it."""
    paths: dict[str, Path] = {}
    missing: list[str] = []
    for src in sources.all():
        try:
            paths[src.name] = resolve(src)
        except SourceMissingError as exc:
            missing.append(str(exc))
    if missing:
        raise SourceMissingError(
            f"MT-Bench needs {len(missing)} file(s) that are not available; nothing was built.\n\n" + "\n\n".join(missing)
        )
    return paths


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    question_id: int
    category: str
    turn1: str
    row: int


@dataclass(frozen=True)
class Answer:
    model: str
    question_id: int
    text: str
    answer_id: str
    model_id: str
    row: int


@dataclass(frozen=True)
class Grade:
    question_id: int
    model: str
    score: float
    user_prompt: str
    row: int


@dataclass
class Loaded:
    questions: dict[int, Question] = field(default_factory=dict)
    answers: dict[tuple[int, str], Answer] = field(default_factory=dict)
    grades: list[Grade] = field(default_factory=list)
    bad: list[DroppedRow] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _int_field(rec: Mapping[str, Any], name: str, label: str, row: int) -> int:
    if name not in rec:
        raise SourceRowError(label, row, name, "missing field")
    value = rec[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceRowError(label, row, name, f"expected an integer, got {value!r}")
    return value


def read_questions(src: SourceFile, path: Path, ctx: BuildContext, into: Loaded) -> None:
    label = src.mirror_path
    for row, rec in jsonl_rows(path, label):
        try:
            if isinstance(rec, SourceRowError):
                raise rec
            qid = _int_field(rec, "question_id", label, row)
            turns = rec.get("turns")
            if not isinstance(turns, list) or not turns or not isinstance(turns[0], str) or not turns[0].strip():
                raise SourceRowError(label, row, "turns", "expected a list whose first item is the turn-1 prompt")
            if qid in into.questions:
                raise SourceRowError(label, row, "question_id", f"repeats question {qid} of row {into.questions[qid].row}")
            category = rec.get("category") if isinstance(rec.get("category"), str) else ""
        except SourceRowError as err:
            into.bad.append(ctx.bad_row(err))
            continue
        into.questions[qid] = Question(qid, category, turns[0], row)


def read_answers(model: str, src: SourceFile, path: Path, ctx: BuildContext, into: Loaded) -> None:
    """A model's answers, keyed by the file's stem (the name the judgments use; `model_id`
    inside some files differs, e.g. vicuna-13b-v1.3.jsonl says vicuna-13b-hao-0515)."""
    label = src.mirror_path
    for row, rec in jsonl_rows(path, label):
        try:
            if isinstance(rec, SourceRowError):
                raise rec
            qid = _int_field(rec, "question_id", label, row)
            choices = rec.get("choices")
            if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
                raise SourceRowError(label, row, "choices", "expected a non-empty list of {index, turns}")
            turns = choices[0].get("turns")
            if not isinstance(turns, list) or not turns or not isinstance(turns[0], str):
                raise SourceRowError(label, row, "choices[0].turns", "expected a list whose first item is the turn-1 answer")
            if (qid, model) in into.answers:
                raise SourceRowError(label, row, "question_id", f"second answer to question {qid}")
            answer_id = rec.get("answer_id") if isinstance(rec.get("answer_id"), str) else ""
            model_id = rec.get("model_id") if isinstance(rec.get("model_id"), str) else ""
        except SourceRowError as err:
            into.bad.append(ctx.bad_row(err))
            continue
        into.answers[(qid, model)] = Answer(model, qid, turns[0], answer_id, model_id, row)


def read_grades(src: SourceFile, path: Path, ctx: BuildContext, into: Loaded, judge: tuple[str, str] = JUDGE) -> None:
    """Turn-1 grades by `judge`; other judges and turns are skipped, ungraded (-1) ones counted."""
    label = src.mirror_path
    stats = {"rows": 0, "other_judge_or_turn": 0, "ungraded": 0}
    for row, rec in jsonl_rows(path, label):
        stats["rows"] += 1
        try:
            if isinstance(rec, SourceRowError):
                raise rec
            qid = _int_field(rec, "question_id", label, row)
            turn = _int_field(rec, "turn", label, row)
            model = text_field(rec, "model", label, row)
            judge_field = rec.get("judge")
            if not isinstance(judge_field, list) or len(judge_field) != 2 or not all(isinstance(j, str) for j in judge_field):
                raise SourceRowError(label, row, "judge", f"expected [judge model, prompt name], got {judge_field!r}")
            score = rec.get("score")
            if isinstance(score, bool) or not isinstance(score, (int, float)):
                raise SourceRowError(label, row, "score", f"expected a number, got {score!r}")
            user_prompt = text_field(rec, "user_prompt", label, row)
        except SourceRowError as err:
            into.bad.append(ctx.bad_row(err))
            continue
        if tuple(judge_field) != judge or turn != 1:
            stats["other_judge_or_turn"] += 1
            continue
        if score == -1:
            stats["ungraded"] += 1
            continue
        if not 1 <= score <= 10:
            into.bad.append(ctx.bad_row(SourceRowError(label, row, "score", f"expected 1-10 or -1, got {score!r}")))
            continue
        into.grades.append(Grade(qid, model, float(score), user_prompt, row))
    into.stats["judgments"] = stats


def load(sources: MTBenchSources, ctx: BuildContext) -> Loaded:
    paths = require(sources)
    loaded = Loaded()
    read_questions(sources.questions, paths[sources.questions.name], ctx, loaded)
    for model, src in sources.answers:
        read_answers(model, src, paths[src.name], ctx, loaded)
    read_grades(sources.judgments, paths[sources.judgments.name], ctx, loaded, sources.judge)
    return loaded


# --- pairing ---------------------------------------------------------------------------------


def unique_grades(grades: list[Grade]) -> tuple[pl.DataFrame, int]:
    """One grade per (question, model): repeated identical grades collapse, conflicting ones are
    excluded (the label would depend on which line won). Returns the frame and the conflicts."""
    import polars as pl

    frame = pl.DataFrame(
        [(g.question_id, g.model, g.score, g.row) for g in grades],
        schema={"question_id": pl.Int64, "model": pl.String, "score": pl.Float64, "row": pl.Int64},
        orient="row",
    )
    per_key = frame.group_by("question_id", "model").agg(
        pl.col("score").n_unique().alias("scores"), pl.col("row").min().alias("row"), pl.col("score").first()
    )
    conflicts = per_key.filter(pl.col("scores") > 1).height
    unique = per_key.filter(pl.col("scores") == 1).drop("scores").sort("question_id", "model")
    return unique, conflicts


def candidate_pairs(grades: pl.DataFrame, band: Band) -> pl.DataFrame:
    """Every (chosen, rejected) pair of models on the same question whose grades fall in the band."""
    import polars as pl

    chosen = grades.filter(pl.col("score").is_between(*band.chosen, closed="both"))
    rejected = grades.filter(pl.col("score").is_between(*band.rejected, closed="both"))
    pairs = chosen.join(rejected, on="question_id", how="inner", suffix="_rejected")
    return pairs.filter(pl.col("model") != pl.col("model_rejected")).sort("question_id", "model", "model_rejected")


def _graded_text_check(answer: Answer, grade: Grade, question: Question, src: SourceFile, judgments: SourceFile) -> None:
    """The answer and question must be the texts GPT-4 saw (quoted in the judgment prompt)."""
    if question.turn1 not in grade.user_prompt:
        raise SourceRowError(
            judgments.mirror_path, grade.row, "user_prompt",
            f"does not quote turn 1 of question {question.question_id} as given in {QUESTIONS.path}",
        )
    if answer.text not in grade.user_prompt:
        raise SourceRowError(
            src.mirror_path, answer.row, "choices[0].turns[0]",
            f"is not the answer GPT-4 graded for question {answer.question_id} "
            f"({judgments.mirror_path} line {grade.row}); the file is a different version",
        )


def build_band(band: Band, sources: MTBenchSources, ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
    """Candidate pairs of one band, every answer checked against the judgment that graded it."""
    loaded = load(sources, ctx)
    yield from loaded.bad
    files = dict(sources.answers)
    judgments_sha = sha256_file(resolve(sources.judgments))
    grades, conflicts = unique_grades(loaded.grades)
    by_key: dict[tuple[int, str], Grade] = {}
    for g in loaded.grades:  # the first line of a (question, model), as in unique_grades
        by_key.setdefault((g.question_id, g.model), g)
    pairs = candidate_pairs(grades, band)
    if sources.judge != JUDGE:
        ctx.report["substitute"] = substitute_label(sources.judge)
    ctx.report["mtbench"] = {
        **loaded.stats,
        "graded_turn1": grades.height,
        "conflicting_grades": conflicts,
        "judged_models_without_answers": sorted(set(grades["model"].to_list()) - set(files)),
        "questions_with_candidates": pairs["question_id"].n_unique(),
    }
    for rec in pairs.iter_rows(named=True):
        qid, cm, rm = rec["question_id"], rec["model"], rec["model_rejected"]
        row_key = f"mt_bench#q{qid}:{cm}>{rm}"
        question = loaded.questions.get(qid)
        missing = [m for m in (cm, rm) if (qid, m) not in loaded.answers]
        if question is None or missing:
            what = f"question {qid}" if question is None else f"an answer from {', '.join(missing)}"
            yield DroppedRow(
                subset=band.subset,
                step="join",
                reason=f"graded pair without {'its question' if question is None else 'an answer file row'}",
                location=f"{sources.judgments.mirror_path}:{rec['row']} model",
                evidence=canonical_json({"row_key": row_key, "missing": what}),
            )
            continue
        chosen, rejected = loaded.answers[(qid, cm)], loaded.answers[(qid, rm)]
        try:
            _graded_text_check(chosen, by_key[(qid, cm)], question, files[cm], sources.judgments)
            _graded_text_check(rejected, by_key[(qid, rm)], question, files[rm], sources.judgments)
        except SourceRowError as err:
            yield ctx.bad_row(err)
            continue
        yield TrioRow(
            prompt=question.turn1,
            chosen=chosen.text,
            chosen_model=cm,
            rejected=rejected.text,
            rejected_model=rm,
            subset=band.subset,
            id=stable_id(band.subset, row_key),
            provenance=Provenance(
                source="mtbench",
                upstream_file=sources.judgments.path,
                revision=sources.judgments.revision,
                sha256=judgments_sha,
                row_key=row_key,
                builder=BUILDER,
                builder_version=BUILDER_VERSION,
                extra=canonical_json(
                    {
                        "question_id": qid,
                        "category": question.category,
                        "judge": list(sources.judge),
                        "chosen_score": rec["score"],
                        "rejected_score": rec["score_rejected"],
                        "judgment_rows": [rec["row"], rec["row_rejected"]],
                        "chosen_file": files[cm].path,
                        "rejected_file": files[rm].path,
                        "chosen_answer_id": chosen.answer_id,
                        "rejected_answer_id": rejected.answer_id,
                    }
                ),
            ),
        )


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnePerQuestion:
    """Keep one surviving pair per question, picked by a seeded hash of its row key.

    Runs after the filters, so a question loses its pair only when every candidate failed.
    """

    name: str = "one_per_question"

    def __call__(self, rows: list[TrioRow], ctx: BuildContext) -> StepResult:
        def rank(row: TrioRow) -> str:
            return hashlib.sha256(f"{ctx.seed}:{row.provenance.row_key}".encode()).hexdigest()

        best: dict[int, TrioRow] = {}
        for row in rows:
            qid = row.provenance.extra_dict()["question_id"]
            if qid not in best or rank(row) < rank(best[qid]):
                best[qid] = row
        keep = {r.id for r in best.values()}
        kept = [r.with_filter(self.name) for r in rows if r.id in keep]
        dropped = [
            drop(
                r,
                self.name,
                "another pair for this question was kept",
                {"kept": best[r.provenance.extra_dict()["question_id"]].provenance.row_key, "seed": ctx.seed},
            )
            for r in rows
            if r.id not in keep
        ]
        return StepResult(kept, dropped, {"questions": len(best)})


def steps_for(band: Band) -> tuple[Step, ...]:
    return (
        *CHAT_ARTEFACT_FILTERS,
        no_refusal(("chosen",)),
        OnePerQuestion(),
        DedupStep(DEDUP_THRESHOLD),
        SelectStep(band.expected),
    )


def _span(bounds: tuple[float, float]) -> str:
    lo, hi = bounds
    return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"


def _register(band: Band) -> None:
    @register_subset(
        name=band.subset,
        section=band.section,
        source="mtbench",
        license=LICENSE,
        expected=band.expected,
        sources=SOURCES.all(),
        steps=steps_for(band),
        description=f"MT-Bench turn 1: GPT-4 grade {_span(band.chosen)} (chosen) vs {_span(band.rejected)} (rejected), same question.",
    )
    def build(ctx: BuildContext) -> Iterator[TrioRow | DroppedRow]:
        return build_band(band, SOURCES, ctx)


for _band in BANDS:
    _register(_band)


# --- substitute: the bands from another judge's grades ------------------------------------------
# When the GPT-4 judgments are unavailable, `rbkit judge mtbench` grades the mirrored turn-1
# answers with any judge and MT-Bench's own single-v1 prompt, writing a file in the judgments'
# format; the same bands then apply to those grades. The subsets keep their names (so sections
# and weights are the published ones) but carry a `substitute` label naming the judge, so the
# evaluator never calls their overall a RewardBench one.

SUBSTITUTE_JUDGMENTS = "mtbench/substitute-judgments"
SUBSTITUTE_PROMPT = "single-v1"


def substitute_label(judge: tuple[str, str]) -> str:
    return (f"turn-1 grades by judge {judge[0]} ({judge[1]}) instead of GPT-4's, over the "
            f"{len(MIRRORED_ANSWERS)} mirrored answer files (rbkit judge mtbench)")


def judged_sources(judgments: Path, judge_model: str, base: MTBenchSources | None = None) -> MTBenchSources:
    """`base`'s questions and mirrored answers (the Hub-only Llama-2 files are left out) with a
    local judgments file pinned by its sha256 now."""
    base = base or SOURCES
    judgments = judgments.resolve()
    src = SourceFile(
        name=SUBSTITUTE_JUDGMENTS, kind="local", repo="local", revision=f"sha256:{sha256_file(judgments)}",
        path=judgments.name, sha256=sha256_file(judgments), license=LICENSE, citation=CITATION,
        mirror_path=judgments.name, local_root=str(judgments.parent),
    )
    answers = tuple((m, f) for m, f in base.answers if m not in SPACE_ONLY_ANSWERS)
    return MTBenchSources(base.questions, src, answers, judge=(judge_model, SUBSTITUTE_PROMPT))


def substitute_specs(sources: MTBenchSources) -> list[SubsetSpec]:
    """The three subsets built from `sources` (not registered: a build of its own)."""
    specs = []
    for band in BANDS:
        specs.append(SubsetSpec(
            name=band.subset, section=band.section, source="mtbench", license=LICENSE, expected=band.expected,
            sources=sources.all(), build=lambda ctx, band=band: build_band(band, sources, ctx), steps=steps_for(band),
            description=f"MT-Bench turn 1: {sources.judge[0]} grade {_span(band.chosen)} (chosen) vs "
                        f"{_span(band.rejected)} (rejected), same question.",
            substitute=substitute_label(sources.judge),
        ))
    return specs


def turn1_items(sources: MTBenchSources | None = None) -> list[tuple[int, str, str, str]]:
    """(question id, model, turn-1 question, turn-1 answer) of every mirrored answer, for grading."""
    sources = sources or SOURCES
    ctx = BuildContext("mtbench", BuildOptions())
    loaded = Loaded()
    read_questions(sources.questions, resolve(sources.questions), ctx, loaded)
    for model, src in sources.answers:
        if model not in SPACE_ONLY_ANSWERS:
            read_answers(model, src, resolve(src), ctx, loaded)
    return [(qid, model, loaded.questions[qid].turn1, ans.text)
            for (qid, model), ans in sorted(loaded.answers.items()) if qid in loaded.questions]

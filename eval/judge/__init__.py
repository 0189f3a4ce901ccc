"""Generative judges (LLM-as-a-judge): `rbkit eval --kind judge` and MT-Bench re-grading.

Modules, each with one job:
    prompts.py   judge prompts from the pinned FastChat file (or a Jinja file) -> chat messages
    verdicts.py  the strict parsers: `[[A]]`/`[[B]]` verdicts and `[[N]]` 1-10 ratings
    plan.py      which requests a dataset needs (answer orders seeded from pair ids; ratings)
    tally.py     verdicts -> row credits and the judge block (position consistency, bias, counts)
    run.py       the run: dataset -> requests through the shared generation layer -> results
    single.py    single-answer grading (MT-Bench `single-v1`) -> judgment records

The generation backends and the request cache are `rbkit.eval.generation`'s; this package only
decides what to ask and how to read the answers.
"""

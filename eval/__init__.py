"""The rbkit evaluator: score a reward model on trio rows and write a reproducible result.

Modules, each with one job:
    data, published  load rows (build folder, parquet/JSONL, published Hub splits) as `Pair`s
    sections         subset -> (section, weight) from build.json or the published table
    render           chat template -> token ids (one BOS, explicit fallback, response boundary)
    batching         length-sorted, token-budget packing with right padding
    heads            reward heads (classifier registry: decorator or entry point)
    dpo              implicit DPO rewards from chunked log-probs
    cache            the resume cache (per-row scores keyed by model, config and row content)
    scoring, stats   the RewardBench formulas, bootstrap CIs and paired tests
    results          results.json + scores.parquet (schema-validated, atomic)
    runner           ties it together for `rbkit eval`; compare/report read result folders
"""

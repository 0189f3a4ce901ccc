"""rbkit's built-in subsets: one module per upstream source, each registering its subsets with
`rbkit.curation.registry.register_subset`.

The registry finds them through rbkit's own entry in the `rbkit.subsets` entry-point group
(pyproject.toml), which names `BUILDER_MODULES`; other packages register theirs the same way.
Importing this package imports no builder.
"""

# Modules that register the built-in subsets, in the order `rbkit ls` shows them.
BUILDER_MODULES: tuple[str, ...] = (
    "rbkit.subsets.alpacaeval",
    "rbkit.subsets.mtbench",
    "rbkit.subsets.llmbar",
    "rbkit.subsets.xstest",
    "rbkit.subsets.donotanswer",
    "rbkit.subsets.refusals",
    "rbkit.subsets.humanevalpack",
    "rbkit.subsets.prm_math",
    # Prior Sets, one module per upstream source (shared code in rbkit.subsets.prior_sets)
    "rbkit.subsets.hhh_alignment",
    "rbkit.subsets.hh_rlhf",
    "rbkit.subsets.shp",
    "rbkit.subsets.summarize",
    "rbkit.subsets.mtbench_judgments",
)

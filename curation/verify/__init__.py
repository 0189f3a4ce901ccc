"""Automatic verifiers: code execution, math answers, refusal checks.

Each verifier records `curation.rows.Verification` entries on the rows it checks and drops
the pairs it refutes, with the evidence, through `curation.pipeline` steps.
"""

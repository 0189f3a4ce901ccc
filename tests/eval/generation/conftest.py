"""Generation tests share one loaded SmolLM2 (session fixture from openai_server.py)."""

from __future__ import annotations

from tests.eval.generation.openai_server import smollm2_backend as smollm2_backend

"""The one generation layer shared by `rbkit generate` and generative judges.

Public surface (keep it small; heavy imports stay inside the backends):
    types.py    Message, SamplingParams, GenerationRequest, Completion, Backend (Protocol)
    open_backend(model=..., api_base=..., ...) -> Backend     (backends.py)
    run_requests(backend, requests, cache=...) -> list[Completion]   (cache + resume)
"""

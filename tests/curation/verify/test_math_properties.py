"""Property tests for answer normalisation and comparison (hypothesis).

Equivalent spellings of one value compare equal, different values compare unequal, and no
input makes the worker hang. Value properties call `equivalent` in-process (their inputs are
small); arbitrary strings go through the killable worker.
"""

import time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rbkit.curation.verify.math_equiv import equivalent
from rbkit.curation.verify.math_extract import extract_answer, extract_boxed
from rbkit.curation.verify.math_worker import EquivalenceWorker

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

fractions = st.builds(Fraction, st.integers(-500, 500), st.integers(1, 200))
ints = st.integers(-(10**9), 10**9)


def fraction_spellings(q: Fraction) -> list[str]:
    """Spellings of one rational the way solutions and models write it."""
    p, d = q.numerator, q.denominator
    sign = "-" if p < 0 else ""
    forms = [
        f"\\frac{{{p}}}{{{d}}}",
        f"{sign}\\dfrac{{{abs(p)}}}{{{d}}}",
        f"{p}/{d}",
        f"$\\tfrac{{{p}}}{{{d}}}$",
    ]
    forms.append(f"\\frac{{{2 * p}}}{{{2 * d}}}")  # not in lowest terms
    if d == 1:
        forms.append(str(p))
    d2, d5 = d, d
    while d2 % 2 == 0:
        d2 //= 2
    while d5 % 5 == 0 and d5 > 1:
        d5 //= 5
    if all(f in (2, 5) for f in _prime_factors(d)):
        forms.append(_terminating_decimal(q))
    return forms


def _prime_factors(n: int) -> set[int]:
    out, k = set(), 2
    while k * k <= n:
        while n % k == 0:
            out.add(k)
            n //= k
        k += 1
    if n > 1:
        out.add(n)
    return out


def _terminating_decimal(q: Fraction) -> str:
    digits = 0
    while (q * 10**digits).denominator != 1:
        digits += 1
    scaled = abs(q.numerator * 10**digits // q.denominator)
    text = str(scaled).rjust(digits + 1, "0")
    body = text[:-digits] + "." + text[-digits:] if digits else text
    return ("-" if q < 0 else "") + body


@PROPS
@given(fractions, st.data())
def test_spellings_of_one_rational_are_equal(q, data):
    forms = fraction_spellings(q)
    a = data.draw(st.sampled_from(forms))
    b = data.draw(st.sampled_from(forms))
    assert equivalent(a, b).verdict == "equal", (a, b)


@PROPS
@given(fractions, fractions)
def test_different_rationals_are_unequal(q, r):
    assume(q != r)
    assert equivalent(fraction_spellings(q)[0], fraction_spellings(r)[1]).verdict == "unequal"


@PROPS
@given(st.integers(1000, 10**12))
def test_thousands_separators_do_not_change_an_integer(n):
    plain = str(n)
    commas = f"{n:,}"
    assert equivalent(commas, plain).verdict == "equal"
    assert equivalent(commas.replace(",", ",\\!"), plain).verdict == "equal"
    assert equivalent(commas.replace(",", "{,}"), plain).verdict == "equal"
    assert equivalent(commas, str(n + 1)).verdict == "unequal"


@PROPS
@given(st.integers(1, 30), st.sampled_from([2, 3, 5, 6, 7, 10, 11, 13, 15]))
def test_surds_are_compared_by_value(k, m):
    assert equivalent(f"{k}\\sqrt{{{m}}}", f"\\sqrt{{{k * k * m}}}").verdict == "equal"
    assert equivalent(f"{k}\\sqrt{{{m}}}", f"\\sqrt{{{k * k * m + 1}}}").verdict == "unequal"


@PROPS
@given(st.integers(-9, 9), st.integers(-9, 9), st.integers(-9, 9), st.integers(-9, 9))
def test_factored_and_expanded_polynomials_are_equal(a, b, c, d):
    assume(a != 0 and c != 0)
    factored = f"({a}x+{b})({c}x+{d})".replace("+-", "-")
    expanded = f"{a * c}x^2+{a * d + b * c}x+{b * d}".replace("+-", "-")
    assert equivalent(factored, expanded).verdict == "equal"
    assert equivalent(factored, expanded + "+1").verdict == "unequal"


@PROPS
@given(st.lists(ints, min_size=2, max_size=5, unique=True), st.randoms(use_true_random=False))
def test_lists_of_solutions_ignore_order_but_tuples_do_not(values, rnd):
    shuffled = values[:]
    rnd.shuffle(shuffled)
    assume(shuffled != values)
    as_list = ", ".join(map(str, values))
    assert equivalent(as_list, ", ".join(map(str, shuffled))).verdict == "equal"
    assert (
        equivalent(f"\\{{{as_list}\\}}", "\\{" + ",".join(map(str, shuffled)) + "\\}").verdict
        == "equal"
    )
    assert (
        equivalent(f"({as_list})", "(" + ", ".join(map(str, shuffled)) + ")").verdict == "unequal"
    )


@PROPS
@given(fractions, fractions, st.sampled_from("(["), st.sampled_from(")]"))
def test_interval_brackets_matter(lo, hi, left, right):
    assume(lo < hi)
    a, b = fraction_spellings(lo)[0], fraction_spellings(hi)[0]
    same = f"\\left{left} {a}, {b} \\right{right}"
    assert equivalent(f"{left}{a},{b}{right}", same).verdict == "equal"
    flipped = {"(": "[", "[": "("}[left]
    assert equivalent(f"{flipped}{a},{b}{right}", same).verdict == "unequal"


@PROPS
@given(st.integers(1, 359))
def test_degree_marks_and_radians(n):
    assert equivalent(f"{n}^\\circ", str(n)).verdict == "equal"
    assert equivalent(f"{n}^{{\\circ}}", f"\\frac{{{n}\\pi}}{{180}}").verdict == "equal"
    assert equivalent(f"{n}^\\circ", str(n + 1)).verdict == "unequal"


@PROPS
@given(st.integers(1, 99))
def test_percent_reads_as_written_or_as_a_fraction(n):
    assert equivalent(f"{n}\\%", str(n)).verdict == "equal"
    assert (
        equivalent(
            f"{n}\\%", str(Fraction(n, 100).numerator) + "/" + str(Fraction(n, 100).denominator)
        ).verdict
        == "equal"
    )
    assert equivalent(f"{n}\\%", f"{n + 1}").verdict == "unequal"


latex_leaf = st.one_of(
    st.integers(-99, 99).map(str),
    st.sampled_from(["x", "y", "\\pi", "\\sqrt{2}", "\\frac{1}{3}", "i"]),
)


@st.composite
def latex_expr(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(latex_leaf)
    op = draw(st.sampled_from(["+", "-", "\\cdot", "frac", "paren"]))
    a, b = draw(latex_expr(depth + 1)), draw(latex_expr(depth + 1))
    if op == "frac":
        return f"\\frac{{{a}}}{{{b}}}"
    if op == "paren":
        return f"\\left({a}\\right)"
    return f"{a} {op} {b}"


@PROPS
@given(latex_expr())
def test_box_extraction_round_trips_any_expression(expr):
    assert extract_boxed(f"Thus the result is $\\boxed{{{expr}}}$.") == expr
    got = extract_answer(f"work\n\n# Answer\n\n{expr}")
    assert got is not None and got.answer == expr.strip()


@PROPS
@given(latex_expr())
def test_an_expression_equals_itself_respelled(expr):
    respelled = expr.replace("\\frac", "\\dfrac").replace("\\cdot", "\\times")
    assert equivalent(f"${respelled}$", expr).verdict == "equal"


# --- nothing hangs --------------------------------------------------------------------------

TOKENS = [
    "1",
    "9",
    "x",
    "^",
    "{",
    "}",
    "(",
    ")",
    "\\frac",
    "\\sqrt",
    "!",
    "+",
    "-",
    ",",
    "\\pi",
    "10",
    "\\cdot",
    " ",
]
BUDGET_S = 1.5


@pytest.fixture(scope="module")
def fuzz_worker():
    with EquivalenceWorker(timeout_s=BUDGET_S) as w:
        w.compare("1", "2")  # start the child before timing anything
        yield w


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.sampled_from(TOKENS), max_size=24).map("".join),
    st.sampled_from(["3", "x^2", "(1,2)"]),
)
def test_no_input_hangs_the_worker(fuzz_worker, junk, reference):
    fuzz_worker.start()  # after a kill, the restart is not part of a comparison's budget
    started = time.monotonic()
    outcome = fuzz_worker.compare(junk, reference)
    elapsed = time.monotonic() - started
    assert outcome.verdict in ("equal", "unequal", "timeout", "error")
    assert elapsed < BUDGET_S + 1.0  # the budget plus the time to kill the child


@pytest.mark.slow
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.integers(3, 6), st.integers(2, 9))
def test_towers_of_powers_return_within_the_budget(fuzz_worker, height, base):
    tower = str(base)
    for _ in range(height):
        tower = f"{base}^{{{tower}}}"
    fuzz_worker.start()
    started = time.monotonic()
    outcome = fuzz_worker.compare(tower, "7")
    assert time.monotonic() - started < BUDGET_S + 1.0
    assert outcome.verdict in ("unequal", "timeout", "error")

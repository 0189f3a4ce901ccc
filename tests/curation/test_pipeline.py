from rbkit.curation.pipeline import KEEP, BuildContext, BuildOptions, Drop, SelectStep, row_filter

from tests.factories import make_row, with_key


@row_filter("short-chosen")
def short_chosen(row):
    return KEEP if len(row.chosen) < 10 else Drop("chosen too long", {"chars": len(row.chosen)})


def rows(n):
    return [with_key(make_row(chosen="x" * i), f"k{i}") for i in range(1, n + 1)]


def ctx(**opts):
    return BuildContext(subset="demo", options=BuildOptions(**opts))


def test_row_filter_records_keeps_and_explains_drops():
    result = short_chosen(rows(12), ctx())
    assert len(result.kept) == 9 and len(result.dropped) == 3
    assert all("short-chosen" in r.provenance.filters_passed for r in result.kept)
    assert {d.reason for d in result.dropped} == {"chosen too long"}
    assert result.dropped[0].step == "filter:short-chosen"
    assert result.dropped[0].row["chosen"] == "x" * 10


def test_selection_is_stable_and_keeps_upstream_order():
    first = SelectStep(5)(rows(20), ctx())
    again = SelectStep(5)(rows(20), ctx())
    assert [r.id for r in first.kept] == [r.id for r in again.kept]
    order = [r.id for r in rows(20)]
    assert [order.index(r.id) for r in first.kept] == sorted(order.index(r.id) for r in first.kept)
    assert len(first.dropped) == 15


def test_selection_depends_on_the_seed():
    a = {r.id for r in SelectStep(5)(rows(20), ctx(seed=0)).kept}
    b = {r.id for r in SelectStep(5)(rows(20), ctx(seed=1)).kept}
    assert a != b


def test_selection_overrides_target_size_and_keep_all():
    assert len(SelectStep(5)(rows(20), ctx(target_size=7)).kept) == 7
    assert len(SelectStep(5)(rows(20), ctx(keep_all=True)).kept) == 20

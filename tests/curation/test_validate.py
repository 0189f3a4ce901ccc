import json

from rbkit.curation.trio_io import to_table, write_parquet
from rbkit.curation.validate import validate_path

from tests.factories import make_row


def test_valid_jsonl_passes(tmp_path):
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps(make_row().to_record()) + "\n")
    report = validate_path(f)
    assert report.ok and report.rows == 1


def test_every_violation_names_file_row_and_field(tmp_path):
    good = make_row().to_record()
    bad = make_row(key="k2").to_record()
    bad["chosen"] = ""
    del bad["provenance"]["revision"]
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n{not json\n")
    found = [str(v) for v in validate_path(f).violations]
    assert f"{f}:2 chosen: " in "\n".join(found)
    assert any(s.startswith(f"{f}:2 provenance.revision: ") for s in found)
    assert any(s.startswith(f"{f}:3 <row>: invalid JSON") for s in found)


def test_duplicate_ids_are_violations(tmp_path):
    f = tmp_path / "rows.jsonl"
    line = json.dumps(make_row().to_record()) + "\n"
    f.write_text(line + line)
    assert [v.field for v in validate_path(f).violations] == ["id"]


def test_parquet_folder_is_validated_file_by_file(tmp_path):
    write_parquet(to_table([make_row()]), tmp_path / "data" / "demo.parquet")
    report = validate_path(tmp_path)
    assert report.ok and report.files == 1


def test_bad_extra_json_is_reported(tmp_path):
    rec = make_row().to_record()
    rec["provenance"]["extra"] = "{oops}"
    f = tmp_path / "rows.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    assert [v.field for v in validate_path(f).violations] == ["provenance.extra"]

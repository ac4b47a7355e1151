"""dbt's unique test on DuckDB (macros/test_unique.sql, a sort instead of dbt's group by) finds the same
duplicates as dbt's default, and every unique test of the build uses it."""

import json

from dbt_helpers import DbtProject

# Keys with repeats out of order, nulls (not values), keys without repeats, text keys.
CASES = {
    "repeated_integers": "(3), (1), (null), (2), (3), (null), (2), (3), (7)",
    "distinct_integers": "(5), (null), (4), (null), (9)",
    "repeated_text": "('b'), ('a'), ('b'), ('C536379'), ('c536379'), ('C536379'), ('b')",
}
CASE_QUERY = """
select
    '{case}' as case_name,
    (select list([unique_field::varchar, n_records::varchar] order by unique_field)
     from ({{{{ duckdb__test_unique("(select * from (values {values}) as t (k))", 'k') }}}})) as sorted,
    (select list([unique_field::varchar, n_records::varchar] order by unique_field)
     from ({{{{ default__test_unique("(select * from (values {values}) as t (k))", 'k') }}}})) as dbt_default
"""


def test_sorted_unique_test_finds_what_dbts_default_finds(tmp_path):
    query = " union all ".join(CASE_QUERY.format(case=case, values=values) for case, values in CASES.items())
    shown = DbtProject(tmp_path, tmp_path / "unused.csv").run("show", "--quiet", "--output", "json", "--inline", query)
    found = {row["case_name"]: row for row in json.loads(shown.stdout)["show"]}
    assert {case: row["sorted"] for case, row in found.items()} == {
        case: row["dbt_default"] for case, row in found.items()}
    assert json.loads(found["repeated_integers"]["sorted"]) == [["2", "2"], ["3", "3"]]
    assert found["distinct_integers"]["sorted"] is None
    assert json.loads(found["repeated_text"]["sorted"]) == [["C536379", "2"], ["b", "3"]]


def test_every_unique_test_of_the_build_sorts(tmp_path):
    project = DbtProject(tmp_path, tmp_path / "unused.csv")
    project.run("compile", "--select", "test_name:unique")
    compiled = list((tmp_path / "target/compiled").rglob("unique_*.sql"))
    assert len(compiled) > 10
    assert all("lag(" in path.read_text() for path in compiled)

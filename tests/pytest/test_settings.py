"""Hostile or wrong settings stop the run with an error naming the setting and
the value, before anything users read is written (macros/settings.sql).

Each build runs on a copy of the session's good build (fixture build_fails):
it must fail and leave every table and the Insiders CSV as they were. The
PostgreSQL settings (schema, Metabase login) are tested in test_serving.py.
"""

import pytest
from dbt_helpers import kill_when_logged, start_build, warehouse_state

READ_A_FILE = "2011-06-01'::date + (select count(*)::int from read_text('/etc/hostname')) + time '00:00:00"


@pytest.mark.parametrize(
    ("vars", "message"),
    [
        ({"as_of_date": READ_A_FILE}, "Setting as_of_date = '2011-06-01'::date"),
        ({"validation_cutoff": "2011-02-30"}, "Setting validation_cutoff = '2011-02-30' is not valid: expected a date"),
        ({"min_invoice_date": "2000-01-01' or true or '"}, "Setting min_invoice_date = '2000-01-01' or true"),
        ({"as_of_date": "2030-01-01"}, "Setting as_of_date = '2030-01-01' is not valid: it is in the future of the "
                                       "data: the last invoice day is 2011-12-09, so the latest as_of_date is 2011-12-10"),
        ({"as_of_date": "2009-06-01"}, "Setting as_of_date = '2009-06-01' is not valid: it is not after the first "
                                       "invoice day of the data (2010-12-01)"),
        ({"insiders_max_customer_share": 2}, "Setting insiders_max_customer_share = 2 is not valid: expected a number "
                                             "above 0 and at most 1"),
        ({"insiders_max_customer_share": 0}, "Setting insiders_max_customer_share = 0 is not valid"),
        ({"max_rejected_share": -0.1}, "Setting max_rejected_share = -0.1 is not valid"),
        ({"validation_months": -3}, "Setting validation_months = -3 is not valid: expected a whole number of at least 1"),
        ({"clustering_sample_size": -5}, "Setting clustering_sample_size = -5 is not valid"),
        ({"clustering_sample_size": 2.5}, "Setting clustering_sample_size = 2.5 is not valid"),
        ({"min_customers": "many"}, "Setting min_customers = 'many' is not valid"),
        ({"non_product_rule": "true or 1=1"}, "Setting non_product_rule = 'true or 1=1' is not valid: expected one of"),
        ({"excluded_customer_ids": ["1) or (1=1"]}, "Setting excluded_customer_ids = '1) or (1=1' is not valid"),
        ({"profile": "nope"}, "Setting profile = 'nope' is not valid: expected one of default, seed"),
        ({"reader_role": "x; drop role postgres"}, "Setting reader_role = 'x; drop role postgres' is not valid"),
    ],
)
def test_bad_var_is_named_and_changes_nothing(build_fails, real_file_path, vars, message):
    # The real file's dates (2010-12-01 to 2011-12-09) make the range messages exact.
    output = build_fails(real_file_path, vars=vars, loaded=True)
    assert message in output, output[-3000:]
    assert "Nothing was built or published" in output


@pytest.fixture(scope="session")
def real_file_path():
    from dbt_helpers import real_raw_file

    return real_raw_file()


def test_country_with_quotes_is_a_literal(good_copy):
    # A quote in a list of countries is escaped: the value is compared, never run.
    project = good_copy()
    hostile = "x'); drop table raw.invoice_lines; --"
    project.run("run", "--select", "int_invoice_lines_classified", vars={"excluded_countries": [hostile]})
    assert project.query("select count(*) from raw.invoice_lines")[0][0] > 0
    compiled = next((project.workdir / "target/run").rglob("int_invoice_lines_classified.sql")).read_text()
    assert "country in ('x''); drop table raw.invoice_lines; --')" in compiled


def test_csv_path_with_a_quote_is_refused(good_copy, tmp_path):
    project = good_copy()
    before = warehouse_state(project)
    environment = project.environment
    project.environment = lambda: dict(environment(), INSIDERS_CSV_PATH=str(tmp_path / "it's.csv"))
    result = project.run("build", check=False)
    assert result.returncode != 0
    assert "Setting INSIDERS_CSV_PATH = '" in result.stdout and "without quotes" in result.stdout
    assert warehouse_state(project) == before
    assert not list(tmp_path.glob("it*"))


def test_killed_build_leaves_the_csv_as_it_was(good_copy):
    # Killed after the new CSV was written aside, before the run ended: the CSV marketing reads is unchanged.
    project = good_copy()
    before = (project.workdir / "insiders.csv").read_bytes()
    build = start_build(project, vars={"as_of_date": "2011-10-01"})
    kill_when_logged(build, project.workdir / "logs/dbt.log", "OK created sql external model exports.insiders_csv",
                     after=0.0)
    assert (project.workdir / "insiders.csv.build").read_bytes() != before
    assert (project.workdir / "insiders.csv").read_bytes() == before


def test_a_failed_report_leaves_the_last_page(tmp_path):
    from insiders.report import render

    page = tmp_path / "report.html"
    page.write_text("the last good page")
    with pytest.raises(Exception):
        render(tmp_path / "missing.duckdb", page, "insiders.csv")
    assert page.read_text() == "the last good page"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]

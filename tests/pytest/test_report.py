"""The HTML report, opened in a real headless Chromium: it renders every chart
without errors or network, and its key numbers are the marts' numbers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_helpers import PROJECT_DIR, DbtProject
from planted_customers import write_planted_file

from insiders.report import render
from insiders.report.marts import QUERIES, SCHEMA
from insiders.report.sections import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MAX_BYTES = 6_000_000


def browser_missing(reason: str):
    """On CI a missing browser is a failure; on a laptop, a skip."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def money(value: float) -> str:
    return f"{'-' if value < 0 else ''}£{abs(value):,.0f}"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> DbtProject:
    workdir = tmp_path_factory.mktemp("report")
    write_planted_file(workdir / "planted.csv")
    project = DbtProject(workdir, workdir / "planted.csv")
    project.run("build")
    return project


@pytest.fixture(scope="module")
def report(planted) -> Path:
    return render(planted.database, planted.workdir / "output/report.html", "insiders.csv")


@pytest.fixture(scope="module")
def playwright():
    """Playwright, once Chromium is known to be there (checked before the build)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("playwright is not installed")
    if not CHROMIUM.is_file():
        browser_missing(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def opened(playwright, report):
    """The report in headless Chromium, with every console error, page error and
    network request (other than the file itself) it produced."""
    errors, requests = [], []
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: request.url != report.as_uri() and requests.append(request.url))
    page.goto(report.as_uri())
    page.wait_for_function("[...document.querySelectorAll('.plotly-graph-div')]"
                           ".every(plot => plot.querySelector('svg.main-svg'))")
    yield page, errors, requests
    browser.close()


def test_page_opens_without_errors_or_network(opened):
    page, errors, requests = opened
    assert errors == []
    assert requests == []
    assert page.title() == "Insiders report"


def test_every_chart_is_rendered(opened, report):
    page, _, _ = opened
    emitted = report.read_text(encoding="utf-8").count("Plotly.newPlot(")
    assert emitted >= 10
    assert int(page.locator("body").get_attribute("data-figures")) == emitted
    plots = page.locator(".js-plotly-plot")
    assert plots.count() == emitted
    for i in range(emitted):
        assert plots.nth(i).locator("svg.main-svg").count() >= 1, f"chart {i} has no svg"


def test_report_is_self_contained_and_small(report):
    text = report.read_text(encoding="utf-8")
    assert report.stat().st_size < MAX_BYTES
    assert "<script src" not in text
    assert text.count("* plotly.js v") == 1  # plotly.js inlined, once: the page opens offline.


def test_key_numbers_equal_the_marts(opened, planted):
    page, _, _ = opened
    text = lambda testid: page.get_by_test_id(testid).inner_text()  # noqa: E731
    one = lambda sql: planted.query(sql)[0]  # noqa: E731

    insiders, customers, insiders_revenue, revenue = one(
        "select count(*) filter (where is_insider), count(*), "
        "cast(sum(gross_revenue) filter (where is_insider) as double), cast(sum(gross_revenue) as double) "
        "from marts.customers")
    assert text("insiders-count") == f"{insiders:,}"
    assert text("customers-count") == f"{customers:,}"
    assert text("insiders-share-of-customers") == percent(insiders / customers)
    assert text("insiders-share-of-revenue") == percent(insiders_revenue / revenue)

    top = planted.query("select customer_id from marts.customers where is_insider "
                        "order by net_revenue desc limit 50")
    rows = page.get_by_test_id("top-insiders").locator("tbody tr")
    assert rows.count() == len(top)
    assert rows.first.locator("td").nth(1).inner_text() == str(top[0][0])
    assert page.get_by_test_id("insiders-csv-link").get_attribute("href") == "insiders.csv"

    raw_lines, lines = one("select max(raw_lines), sum(lines) from marts.ledger_reconciliation")
    assert text("raw-lines") == f"{raw_lines:,}"
    assert text("ledger-lines-total") == f"{lines:,}"
    for disposition, count in planted.query("select disposition, lines from marts.ledger_reconciliation"):
        assert text(f"ledger-{disposition}-lines") == f"{count:,}"

    entry_rules = one("select count(*) from marts.insiders_rules where predicts_insider")[0]
    assert text("entry-rules-count") == f"{entry_rules:,}"
    members, joined, left = one("select members, joiners, leavers from marts.membership_refreshes "
                                "order by refresh_date desc limit 1")
    assert text("members-last-refresh") == f"{members:,}"
    assert text("joined-last-run-count") == f"{joined:,}"
    assert text("left-last-run-count") == f"{left:,}"
    refreshes = one("select count(*) from marts.membership_refreshes")[0]
    assert page.get_by_test_id("membership-refreshes").locator("tbody tr").count() == refreshes


def test_forecast_and_validation_equal_the_marts(opened, planted):
    page, _, _ = opened
    text = lambda testid: page.get_by_test_id(testid).inner_text()  # noqa: E731
    validation = dict(planted.query("select metric, value from marts.insiders_validation"))
    before, after = validation["insiders.revenue_before_cutoff"], validation["insiders.revenue_after_cutoff"]
    assert text("oot-forecast") == money(before)
    assert text("oot-actual") == money(after)
    assert text("oot-error") == percent((before - after) / after)
    for population in ("insiders", "rfm_top", "random", "rfm_top_same_size"):
        assert text(f"validation-{population}-share-of-customers") == percent(
            validation[f"{population}.share_of_customers"])
        assert text(f"validation-{population}-share-of-revenue") == percent(
            validation[f"{population}.share_of_revenue_after_cutoff"])

    # The naive forecast: Insiders' revenue of the last 3 complete months; sd over the last 6.
    point, sd = planted.query("""
        with months as (
            select revenue_month, coalesce(sum(revenue) filter (where segment = 'Insiders'), 0) as revenue
            from marts.monthly_revenue group by revenue_month
        ),
        complete as (
            select revenue_month, cast(revenue as double) as revenue,
                row_number() over (order by revenue_month desc) as age
            from months
            where revenue_month + interval 1 month <= (select max(as_of_date) from marts.customers)
        )
        select sum(revenue) filter (where age <= 3), stddev_samp(revenue) filter (where age <= 6) from complete
    """)[0]
    assert text("forecast-next-3-months") == money(point)
    assert text("forecast-low") == money(point - 1.96 * sd * 3 ** 0.5)
    assert text("forecast-high") == money(point + 1.96 * sd * 3 ** 0.5)

    insiders_mean, others_mean = planted.query(
        "select avg(gross_revenue) filter (where is_insider), avg(gross_revenue) filter (where not is_insider) "
        "from marts.customers")[0]
    assert text("revenue-difference") == money(float(insiders_mean - others_mean))
    as_pounds = lambda testid: float(text(testid).replace("£", "").replace(",", ""))  # noqa: E731
    assert as_pounds("revenue-difference-low") <= as_pounds("revenue-difference") <= as_pounds(
        "revenue-difference-high")
    assert 0 < float(text("permutation-p-value")) <= 1

    # The numbers that only the page had before: question 5's forecast and question 8's statistics, now marts.
    one = lambda sql: planted.query(sql)[0]  # noqa: E731
    low, high, error = one("select forecast_low, forecast_high, forecast_at_cutoff_error "
                           "from marts.insiders_revenue_forecast")
    assert (text("forecast-low"), text("forecast-high"), text("oot-error")) == (money(low), money(high),
                                                                               percent(error))
    difference, low, high, p_value, resamples = one(
        "select difference, difference_low, difference_high, permutation_p_value, resamples "
        "from marts.insiders_revenue_difference")
    assert text("revenue-difference") == money(difference)
    assert text("revenue-difference-low") == money(low)
    assert text("revenue-difference-high") == money(high)
    assert text("permutation-p-value") == f"{p_value:.4f}"
    # The interval is the 2.5 % and 97.5 % quantiles of the distribution the histogram draws.
    quantiles = one("select quantile_cont(difference, 0.025), quantile_cont(difference, 0.975), count(*) "
                    "from marts.insiders_revenue_difference_bootstrap")
    assert quantiles[2] == resamples
    assert (money(quantiles[0]), money(quantiles[1])) == (money(low), money(high))


def test_hypotheses_are_computed(opened, planted):
    page, _, _ = opened
    returns_larger, ticket_double, recent_half = planted.query("""
        select
            sum(returned_items) filter (where is_insider) / sum(items) filter (where is_insider)
                > sum(returned_items) filter (where not is_insider) / sum(items) filter (where not is_insider),
            avg(avg_ticket) filter (where is_insider) >= 2 * avg(avg_ticket) filter (where not is_insider),
            avg(case when recency_days < 30 then 1 else 0 end) filter (where is_insider) > 0.5
        from marts.customers
    """)[0]
    verdicts = [page.get_by_test_id(f"hypothesis-{i}").inner_text() for i in (1, 2, 3)]
    assert verdicts == ["TRUE" if v else "FALSE" for v in (returns_larger, ticket_double, recent_half)]
    marts = [row[0] for row in planted.query("select is_true from marts.insiders_hypotheses order by hypothesis_id")]
    assert verdicts == ["TRUE" if v else "FALSE" for v in marts]


def test_navigation_and_sections_come_from_one_list(opened):
    page, _, _ = opened
    anchors = [section.anchor for section in SECTIONS]
    assert page.locator("nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))") == [
        f"#{anchor}" for anchor in anchors]
    assert page.locator("section").evaluate_all("sections => sections.map(s => s.id)") == anchors
    assert page.locator("section h2").all_inner_texts() == [section.title for section in SECTIONS]


def test_report_reads_only_marts():
    for name, sql in QUERIES.items():
        tables = [word for word in sql.replace("(", " ").split() if "." in word and "{" in word]
        assert tables and all(t.startswith("{marts}.") for t in tables), name
        assert "clustering." not in sql and "intermediate." not in sql, name
    assert SCHEMA == "marts"


def test_screenshot(opened, tmp_path):
    page, _, _ = opened
    path = tmp_path / "report.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    assert path.stat().st_size > 50_000


def test_command_line_writes_the_same_page(planted, report, tmp_path):
    output = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "insiders.report", "--database", str(planted.database),
                    "--output", str(output), "--csv-link", "insiders.csv"], cwd=PROJECT_DIR, check=True,
                   capture_output=True)
    assert output.read_text(encoding="utf-8").count("Plotly.newPlot(") == report.read_text(
        encoding="utf-8").count("Plotly.newPlot(")

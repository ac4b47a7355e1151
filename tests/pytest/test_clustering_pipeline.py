"""The clustering models on planted customer groups, built by the real dbt."""

import csv
from decimal import Decimal

import pytest
from dbt_helpers import PROJECT_DIR, DbtProject, copy_build
from planted_customers import write_planted_file
from sklearn.metrics import adjusted_rand_score


@pytest.fixture(scope="module")
def planted(good_build, tmp_path_factory):
    # The session's good build of the planted file (conftest.py), shared: read it, never build into it.
    groups = write_planted_file(tmp_path_factory.mktemp("planted") / "planted.csv")
    return good_build, groups


def clusters(project):
    return project.query("select customer_id, cluster_id, qualifies_as_insider from marts.customers "
                         "order by customer_id")


def test_planted_groups_are_recovered(planted):
    project, groups = planted
    rows = clusters(project)
    assert len(rows) == len(groups)
    assert adjusted_rand_score([groups[c] for c, *_ in rows], [cluster for _, cluster, _ in rows]) >= 0.9
    insiders = {customer for customer, _, is_insider in rows if is_insider}
    vips = {customer for customer, group in groups.items() if group == "vip"}
    assert insiders == vips
    # Every VIP is a member; so are regulars who entered at an early refresh and have not lapsed since.
    members = {customer for (customer,) in project.query("select customer_id from marts.customers where is_insider")}
    assert vips <= members
    assert {groups[customer] for customer in members} <= {"vip", "regular"}


def test_every_output_is_built(planted):
    project, groups = planted
    spaces = project.query("select space, count(*) from clustering.customer_embeddings group by 1 order by 1")
    assert spaces == [(space, len(groups)) for space in ("features", "tree", "tsne", "umap")]
    algorithms = project.query("select algorithm, count(*) from marts.model_selection group by 1 order by 1")
    assert algorithms == [("dbscan", 4 * 6), ("gmm", 4 * 13), ("hierarchical", 4 * 13), ("kmeans", 4 * 13)]
    insider_rule = project.query("select precision, recall from marts.insiders_rules where rule_id = 1")
    assert insider_rule[0][0] > 0.9 and insider_rule[0][1] > 0.9
    validation = dict(project.query("select metric, value from marts.insiders_validation"))
    assert validation["stability.random_state_jaccard_min"] >= 0.9
    assert validation["stability.bootstrap_ari_mean"] >= 0.8


def test_same_data_gives_the_same_clusters(planted, tmp_path):
    project, _ = planted
    again = DbtProject(tmp_path, project.raw_path)
    again.run("build", "--select", "+customer_clusters", "--indirect-selection", "cautious")
    query = "select * from clustering.customer_clusters order by customer_id"
    assert again.query(query) == project.query(query)


def test_dashboard_questions_run_on_duckdb(planted, tmp_path):
    project = copy_build(planted[0], tmp_path)
    project.run("compile", "--select", "path:analyses")
    questions = sorted((project.workdir / "target/compiled/insiders/analyses").glob("*.sql"))
    assert len(questions) == len(list((PROJECT_DIR / "analyses").glob("*.sql")))  # every question compiled
    for question in questions:
        assert project.query(question.read_text()), question.name


def test_insiders_csv_lists_every_insider(planted):
    project, _ = planted
    with open(project.workdir / "insiders.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:5] == ["customer_id", "cluster_id", "cluster_name", "rfm_segment", "member_since"]
    expected = project.query(
        "select customer_id, cluster_id, gross_revenue, rfm_segment from marts.customers "
        "where is_insider order by customer_id"
    )
    assert [(int(row["customer_id"]), int(row["cluster_id"]), Decimal(row["gross_revenue"]), row["rfm_segment"])
            for row in rows] == expected

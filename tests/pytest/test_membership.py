"""The membership history: joiners and leavers between two runs, against a direct comparison."""

from dbt_helpers import DbtProject
from planted_customers import write_planted_file

INSIDERS = "select customer_id, is_insider from marts.customers"


def test_joiners_and_leavers_match_a_direct_comparison(tmp_path):
    write_planted_file(tmp_path / "planted.csv")
    project = DbtProject(tmp_path, tmp_path / "planted.csv")
    project.run("build", vars={"as_of_date": "2011-04-01"})
    before = dict(project.query(INSIDERS))
    first_run = project.query("select max(changed_at) from marts.insiders_membership_changes")[0][0]
    project.run("build")
    after = dict(project.query(INSIDERS))

    changes = project.query(
        f"select customer_id, membership_change, as_of_date from marts.insiders_membership_changes "
        f"where changed_at > '{first_run}'"
    )
    joined = {customer for customer, is_insider in after.items() if is_insider and not before.get(customer, False)}
    left = {customer for customer, is_insider in before.items() if is_insider and not after[customer]}
    assert joined and left, "the two runs should differ"
    assert {customer for customer, change, _ in changes if change == "joined"} == joined
    assert {customer for customer, change, _ in changes if change == "left"} == left
    assert {as_of for *_, as_of in changes} == {project.query("select max(as_of_date) from marts.customers")[0][0]}

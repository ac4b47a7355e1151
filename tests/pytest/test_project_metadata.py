"""The project's own rules, read from dbt's manifest: descriptions, keys, Metabase metadata, personal data."""

import json

import pytest
from dbt_helpers import DbtProject


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("manifest")
    DbtProject(workdir, workdir / "unused.csv").run("parse")
    return json.loads((workdir / "target/manifest.json").read_text())


def models(manifest):
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def test_every_model_and_column_is_described(manifest):
    for model in models(manifest):
        assert model["description"].strip(), model["name"]
        for column in model["columns"].values():
            assert column["description"].strip(), (model["name"], column["name"])


def test_every_model_has_a_tested_unique_key(manifest):
    tested = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            name = node["test_metadata"]["name"]
            for parent in node["depends_on"]["nodes"]:
                tested.setdefault(parent, set()).add(name)
    for model in models(manifest):
        assert {"unique", "not_null"} <= tested.get(model["unique_id"], set()) or "unique_combination" in tested.get(
            model["unique_id"], set()), model["name"]


def test_dashboard_reads_tables_with_metabase_metadata(manifest):
    dashboard = manifest["exposures"]["exposure.insiders.insiders_dashboard"]
    assert dashboard["type"] == "dashboard" and dashboard["owner"]["name"]
    for unique_id in dashboard["depends_on"]["nodes"]:
        model = manifest["nodes"][unique_id]
        assert model["config"]["materialized"] == "table", model["name"]
        for column in model["columns"].values():
            assert column["meta"].get("metabase.display_name"), (model["name"], column["name"])


def test_customer_ids_are_tagged_as_personal_data(manifest):
    for model in models(manifest):
        if "customer_id" in model["columns"]:
            column = model["columns"]["customer_id"]
            assert "pii" in column["tags"] and column["meta"].get("contains_pii"), model["name"]

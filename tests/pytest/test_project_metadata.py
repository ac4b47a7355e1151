"""The project's own rules, read from dbt's manifest: descriptions, keys, layers, names, Metabase metadata,
personal data (the rules of dbt-project-evaluator that apply here; dbt-score in `make test` scores the rest).

Each rule is a function that lists what breaks it; the tests assert that the project's list is empty, and
test_each_rule_can_fail that each rule finds its break in a small manifest made to break it."""

import json
import re

import pytest
from dbt_helpers import DbtProject

# Marts read the ledger, not the cleaned raw lines: the one exception reconciles the ledger with the raw
# file, so it must count the raw lines without going through the ledger.
MARTS_READING_STAGING = {"ledger_reconciliation"}
# Names of the other layers' conventions (and of a star schema's), which an entity name does not carry.
FOREIGN_PREFIXES = ("stg_", "int_", "fct_", "dim_", "base_", "rpt_", "mart_")
# A relation named in SQL instead of through ref() or source(): schema.table, the schemas of this project.
SCHEMAS = ("raw", "main", "staging", "intermediate", "marts", "clustering", "seeds", "snapshots", "exports",
           "warehouse")
HARD_CODED_RELATION = re.compile(rf"\b({'|'.join(SCHEMAS)})\s*\.\s*\"?[a-z_]\w*", re.IGNORECASE)
COMMENTS = re.compile(r"\{#.*?#\}|/\*.*?\*/|--[^\n]*", re.DOTALL)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("manifest")
    DbtProject(workdir, workdir / "unused.csv").run("parse")
    return json.loads((workdir / "target/manifest.json").read_text())


def models(manifest):
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def layer(node) -> str:
    """staging, intermediate, marts, exports or clustering: the folder under models/ or python_models/."""
    return node["original_file_path"].split("/")[1]


def parents(manifest, node) -> list[dict]:
    found = []
    for unique_id in node["depends_on"]["nodes"]:
        group = "sources" if unique_id.startswith("source.") else "nodes"
        found.append(manifest[group][unique_id])
    return found


# --- The rules ----------------------------------------------------------------


def undocumented_models_and_columns(manifest):
    missing = []
    for model in models(manifest):
        if not model["description"].strip():
            missing.append(model["name"])
        missing += [f"{model['name']}.{name}" for name, column in model["columns"].items()
                    if not column["description"].strip()]
    return missing


def undocumented_seeds_sources_and_columns(manifest):
    missing = []
    for node in [*manifest["sources"].values(),
                 *(node for node in manifest["nodes"].values() if node["resource_type"] == "seed")]:
        if not node["description"].strip():
            missing.append(node["name"])
        missing += [f"{node['name']}.{name}" for name, column in node["columns"].items()
                    if not column["description"].strip()]
    return missing


def undocumented_macros(manifest):
    """The project's macros (generic tests included), each with a description and its arguments described."""
    missing = []
    for macro in manifest["macros"].values():
        if macro["package_name"] != manifest["metadata"]["project_name"]:
            continue
        if not macro["description"].strip():
            missing.append(macro["name"])
        missing += [f"{macro['name']}({argument['name']})" for argument in macro["arguments"]
                    if not (argument.get("description") or "").strip()]
    return missing


def models_without_a_tested_primary_key(manifest):
    """A primary key: one column tested unique and not_null, or a unique_combination test (a composite key)."""
    tested = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and node.get("attached_node"):
            tested.setdefault(node["attached_node"], []).append(
                (node["test_metadata"]["name"], node.get("column_name")))
    missing = []
    for model in models(manifest):
        tests = tested.get(model["unique_id"], [])
        keys = {column for name, column in tests if name == "unique"} & {
            column for name, column in tests if name == "not_null"}
        if not keys and not any(name == "unique_combination" for name, _ in tests):
            missing.append(model["name"])
    return missing


def misnamed_models(manifest):
    """Staging: stg_<source>__<table>; intermediate: int_; everywhere else an entity name, in snake case,
    without another layer's prefix."""
    sources = {source["source_name"] for source in manifest["sources"].values()}
    wrong = []
    for model in models(manifest):
        name, where = model["name"], layer(model)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            wrong.append(name)
        elif where == "staging":
            if not any(name.startswith(f"stg_{source}__") for source in sources):
                wrong.append(name)
        elif where == "intermediate":
            if not name.startswith("int_"):
                wrong.append(name)
        elif name.startswith(FOREIGN_PREFIXES):
            wrong.append(name)
    return wrong


def hard_coded_relations(manifest):
    """SQL models name every relation through ref() or source() (comments aside); Python models read
    through dbt.ref() or dbt.source(), never by a query of their own."""
    found = []
    for model in models(manifest):
        code = model["raw_code"]
        if model["language"] == "sql":
            found += [f"{model['name']}: {match.group(0)}"
                      for match in HARD_CODED_RELATION.finditer(COMMENTS.sub("", code))]
        elif re.search(r"\.(sql|execute|query)\(|duckdb\.connect", code):
            found.append(f"{model['name']}: a query of its own")
    return found


def layer_violations(manifest):
    """Only staging reads sources, and only sources; staging is read by intermediate models only (and the
    marts' exception); no layer reads a later one (staging < intermediate < clustering and marts < exports).
    The clustering and the marts are one layer: the served Python models read marts (customers) and the
    clustering reads served Python models (model_selection)."""
    order = {"staging": 0, "intermediate": 1, "clustering": 2, "marts": 2, "exports": 3}
    wrong = []
    for model in models(manifest):
        where = layer(model)
        for parent in parents(manifest, model):
            kind = parent["resource_type"]
            if (kind == "source") != (where == "staging") and not (where == "staging" and kind == "seed"):
                wrong.append(f"{model['name']} ({where}) reads {kind} {parent['name']}")
            elif kind == "model":
                parent_layer = layer(parent)
                if order[parent_layer] > order[where]:
                    wrong.append(f"{model['name']} ({where}) reads {parent['name']} ({parent_layer})")
                elif (parent_layer == "staging" and where != "intermediate"
                      and model["name"] not in MARTS_READING_STAGING):
                    wrong.append(f"{model['name']} ({where}) reads staging {parent['name']}")
    return wrong



def column_mismatches(manifest, built_columns):
    """Every column a build writes is declared in its YAML (and so described), and every declared column is
    built: the manifest against the warehouse, as `dbt docs generate` compares it with its catalog.
    built_columns(schema, table) gives the columns of a table of the build (empty when there is none)."""
    wrong = []
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] not in ("model", "seed", "snapshot", "source"):
            continue
        table = node.get("identifier") or node.get("alias") or node["name"]
        built, declared = built_columns(node["schema"], table), set(node["columns"])
        if not built:
            wrong.append(f"{node['name']}: no table {node['schema']}.{table} in the build")
            continue
        wrong += [f"{node['name']}.{column} is built but not declared" for column in sorted(built - declared)]
        wrong += [f"{node['name']}.{column} is declared but not built" for column in sorted(declared - built)]
    return wrong

RULES = [undocumented_models_and_columns, undocumented_seeds_sources_and_columns, undocumented_macros,
         models_without_a_tested_primary_key, misnamed_models, hard_coded_relations, layer_violations]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_project_keeps_the_rule(manifest, rule):
    assert rule(manifest) == []


# --- Each rule can fail: a manifest of one source, one seed, one macro and three models that is fine,
# then broken once per rule.

def model_node(name: str, path: str, parents: list[str], sql: str = "select 1 as id"):
    return {"unique_id": f"model.demo.{name}", "resource_type": "model", "name": name, "language": "sql",
            "original_file_path": path, "description": "A model.", "raw_code": sql,
            "columns": {"id": {"description": "The key."}}, "depends_on": {"nodes": parents}}


def key_tests(model: str) -> dict:
    return {f"test.demo.{name}_{model}": {"resource_type": "test", "attached_node": f"model.demo.{model}",
                                          "column_name": "id", "test_metadata": {"name": name}}
            for name in ("unique", "not_null")}


def small_manifest() -> dict:
    nodes = {
        "seed.demo.codes": {"unique_id": "seed.demo.codes", "resource_type": "seed", "name": "codes",
                            "description": "Codes.", "columns": {"code": {"description": "A code."}}},
        **{node["unique_id"]: node for node in [
            model_node("stg_shop__orders", "models/staging/shop/stg_shop__orders.sql", ["source.demo.shop.orders"]),
            model_node("int_orders_cleaned", "models/intermediate/int_orders_cleaned.sql",
                       ["model.demo.stg_shop__orders", "seed.demo.codes"]),
            model_node("orders", "models/marts/orders.sql", ["model.demo.int_orders_cleaned"]),
        ]},
    }
    for model in ("stg_shop__orders", "int_orders_cleaned", "orders"):
        nodes.update(key_tests(model))
    return {
        "metadata": {"project_name": "demo"},
        "nodes": nodes,
        "sources": {"source.demo.shop.orders": {"resource_type": "source", "name": "orders", "source_name": "shop",
                                                 "description": "Orders.", "columns": {}}},
        "macros": {"macro.demo.cents": {"package_name": "demo", "name": "cents", "description": "Pounds to pence.",
                                        "arguments": [{"name": "column", "description": "An amount."}]}},
    }


def break_model_description(manifest):
    manifest["nodes"]["model.demo.orders"]["columns"]["id"]["description"] = " "


def break_seed_description(manifest):
    manifest["nodes"]["seed.demo.codes"]["description"] = ""


def break_macro_argument(manifest):
    manifest["macros"]["macro.demo.cents"]["arguments"][0]["description"] = ""


def break_primary_key(manifest):
    del manifest["nodes"]["test.demo.not_null_orders"]


def break_naming(manifest):
    manifest["nodes"]["model.demo.orders"]["name"] = "fct_orders"


def break_relations(manifest):
    manifest["nodes"]["model.demo.orders"]["raw_code"] = "-- from marts.x\nselect * from main.orders"


def break_layers(manifest):
    manifest["nodes"]["model.demo.orders"]["depends_on"]["nodes"] = ["model.demo.stg_shop__orders"]


@pytest.mark.parametrize("rule, break_it", [
    (undocumented_models_and_columns, break_model_description),
    (undocumented_seeds_sources_and_columns, break_seed_description),
    (undocumented_macros, break_macro_argument),
    (models_without_a_tested_primary_key, break_primary_key),
    (misnamed_models, break_naming),
    (hard_coded_relations, break_relations),
    (layer_violations, break_layers),
], ids=lambda value: value.__name__)
def test_each_rule_can_fail(rule, break_it):
    manifest = small_manifest()
    assert rule(manifest) == [], "the small manifest keeps every rule"
    break_it(manifest)
    assert rule(manifest), f"{rule.__name__} did not see {break_it.__name__}"



def test_every_built_column_is_declared(good_build):
    # The session's good build of the planted file and the manifest of that build.
    manifest = json.loads((good_build.workdir / "target/manifest.json").read_text())

    def built_columns(schema: str, table: str) -> set[str]:
        return {name for (name,) in good_build.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}'")}

    assert column_mismatches(manifest, built_columns) == []


def test_the_column_rule_can_fail():
    manifest = {"sources": {}, "nodes": {"model.demo.orders": {
        "resource_type": "model", "name": "orders", "schema": "marts", "alias": "orders", "columns": {"id": {}}}}}
    assert column_mismatches(manifest, lambda schema, table: {"id"}) == []
    assert column_mismatches(manifest, lambda schema, table: {"id", "total"}) == ["orders.total is built but not declared"]
    assert column_mismatches(manifest, lambda schema, table: set()) == ["orders: no table marts.orders in the build"]

# --- Serving ----------------------------------------------------------------


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


def test_report_exposure_lists_the_marts_the_report_reads(manifest):
    from insiders.report.marts import QUERIES

    report = manifest["exposures"]["exposure.insiders.insiders_report"]
    read = {word.split(".")[1] for sql in QUERIES.values() for word in re.split(r"[\s()]+", sql)
            if word.startswith("{marts}.")}
    assert {manifest["nodes"][unique_id]["name"] for unique_id in report["depends_on"]["nodes"]} == read
    for unique_id in report["depends_on"]["nodes"]:
        model = manifest["nodes"][unique_id]
        assert model["config"]["schema"] == "marts", model["name"]

"""Python side of the Insiders dbt project."""

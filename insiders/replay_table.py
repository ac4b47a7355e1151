"""Prints the replay of the monthly refreshes (mart membership_refreshes) as a table.

    python -m insiders.replay_table --database insiders.duckdb
"""

import argparse

import duckdb

COLUMNS = {
    "refresh_date": "refresh", "customers": "customers", "members": "members", "member_share": "share",
    "joiners": "joined", "leavers": "left", "rejoiners": "re-joined", "waiting": "waiting",
    "retention": "retention", "members_share_next_3_months": "next 3 months", "forecast_error": "forecast error",
    "forecast_interval_held": "in interval",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="the built DuckDB file (opened read-only)")
    args = parser.parse_args()
    with duckdb.connect(args.database, read_only=True) as con:
        frame = con.sql(f"select {', '.join(COLUMNS)} from marts.membership_refreshes order by refresh_date").df()
    for column in ("member_share", "retention", "members_share_next_3_months", "forecast_error"):
        frame[column] = frame[column].map(lambda share: "" if share != share else f"{share:.1%}")
    frame["forecast_interval_held"] = frame["forecast_interval_held"].map({True: "yes", False: "no"}).fillna("")
    print(frame.rename(columns=COLUMNS).to_string(index=False, na_rep=""))


if __name__ == "__main__":
    main()

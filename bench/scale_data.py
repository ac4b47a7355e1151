"""Writes an N-times copy of the Online Retail raw file, for benchmarks at scale.

Usage: python bench/scale_data.py --source PATH --times N [--output PATH] [--seed 42]

Copy k = 0..N-1 is the whole source file, line for line in the same order:
- copy 0 is the source as it is;
- customers are renamed: CustomerID c becomes c + k * customer_stride (a power
  of ten above every source id and above the ids the seed profile gives guest
  invoices), still a whole number with the source's ".0"; guests stay guests;
- invoices are renumbered: prefix + (number + k * invoice_stride), so "C"
  (cancellation) and "A" invoices keep their prefix and stay numeric;
- every (copy, invoice) is moved by the same whole number of days in [-3, 3],
  drawn from md5(seed, copy, invoice) (stable across DuckDB versions, unlike
  hash()) and narrowed so that no line leaves the source's period (first to
  last timestamp); times of day are kept;
- stock codes, descriptions, quantities, prices and countries are the source
  text, unchanged.

Why whole copies rather than drawing customers with replacement: totals are
then exactly N times the source (lines, revenue, customers, the shares of
returns and guests, the price and quantity distributions), which tests can
check exactly; a cancellation keeps its customer because both are renamed by
the same rule. The price is realism: the customers of copy k are those of the
source with their invoices a few days apart.

Output is CSV in the source's column order (gzip if the name ends in .gz), so
the project's loader reads it unchanged. All the work is DuckDB SQL: one COPY
per copy into a part file, appended to the output, so memory stays bounded
and the bytes are the same for the same seed.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[1]
COLUMNS = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
MAX_JITTER_DAYS = 3
# The loader casts CustomerID to a 32-bit integer.
MAX_CUSTOMER_ID = 2**31 - 1
# The seed profile numbers each guest invoice as a customer from 19000 on
# (int_invoice_lines_classified): renamed customers must stay above them.
FIRST_SYNTHETIC_GUEST_ID = 19000


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def power_of_ten_above(number: int) -> int:
    return 10 ** len(str(number))


def load_source(con: duckdb.DuckDBPyConnection, source: Path) -> None:
    """Reads the source as text into source_lines and its invoices' day bounds into invoices."""
    con.execute(f"""
        create table source_text as
        select * from read_csv({sql_text(str(source))}, all_varchar = true, header = true)
    """)
    found = [row[0] for row in con.execute("describe source_text").fetchall()]
    if found != COLUMNS:
        raise SystemExit(f"{source}: columns {found}, expected {COLUMNS}")
    bad = con.execute(r"""
        select rowid + 2, InvoiceNo, InvoiceDate, CustomerID from source_text
        where not regexp_full_match(coalesce(InvoiceNo, ''), '[A-Za-z]*[0-9]+')
           or try_strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') is null
           or not regexp_full_match(coalesce(CustomerID, '0'), '[0-9]+(\.0+)?')
        limit 1
    """).fetchall()
    if bad:
        raise SystemExit(f"{source}: line {bad[0][0]} has InvoiceNo, InvoiceDate or CustomerID in no known shape: {bad[0][1:]}")

    con.execute(r"""
        create table source_lines as
        select
            rowid + 1 as line_number,
            InvoiceNo,
            regexp_extract(InvoiceNo, '^[A-Za-z]*') as invoice_prefix,
            cast(regexp_extract(InvoiceNo, '[0-9]+$') as bigint) as invoice_number,
            StockCode,
            Description,
            Quantity,
            strptime(InvoiceDate, '%Y-%m-%d %H:%M:%S') as invoiced_at,
            UnitPrice,
            cast(regexp_extract(CustomerID, '^[0-9]+') as bigint) as customer_number,
            regexp_extract(CustomerID, '\.0+$') as customer_suffix,
            Country
        from source_text
        order by rowid
    """)
    con.execute("drop table source_text")
    # How many whole days each invoice may move and keep all its lines inside
    # the source's period (first to last timestamp).
    con.execute("""
        create table invoices as
        with period as (
            select min(invoiced_at) as first_at, max(invoiced_at) as last_at from source_lines
        )
        select
            InvoiceNo,
            -floor(epoch(min(invoiced_at) - any_value(period.first_at)) / 86400) as earliest_shift,
            floor(epoch(any_value(period.last_at) - max(invoiced_at)) / 86400) as latest_shift
        from source_lines, period
        group by InvoiceNo
    """)


def copy_query(copy_number: int, seed: int, invoice_stride: int, customer_stride: int) -> str:
    """The lines of one copy, in source order, as CSV text columns."""
    return f"""
        with shifted_invoices as (
            select
                InvoiceNo,
                case when {copy_number} = 0 then 0 else least(greatest(
                    cast(md5_number(concat({seed}, ':', {copy_number}, ':', InvoiceNo))
                         % {2 * MAX_JITTER_DAYS + 1} as integer) - {MAX_JITTER_DAYS},
                    earliest_shift), latest_shift)
                end as shift_days
            from invoices
        )
        select
            invoice_prefix || (invoice_number + {copy_number * invoice_stride}) as InvoiceNo,
            StockCode,
            Description,
            Quantity,
            strftime(invoiced_at + to_days(cast(shift_days as integer)), '%Y-%m-%d %H:%M:%S') as InvoiceDate,
            UnitPrice,
            (customer_number + {copy_number * customer_stride}) || customer_suffix as CustomerID,
            Country
        from source_lines
        join shifted_invoices using (InvoiceNo)
        order by line_number
    """


def generate(source: Path, times: int, output: Path, seed: int = 42, memory_limit: str = "4GB") -> dict:
    started = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    compression = "gzip" if output.name.endswith(".gz") else "none"
    # Parts and DuckDB's spill files sit beside the output; the output appears
    # only once complete, so no loader ever reads half a file.
    with tempfile.TemporaryDirectory(prefix=".scale_data_", dir=output.parent) as workdir:
        con = duckdb.connect()
        con.execute(f"set memory_limit = {sql_text(memory_limit)}")
        con.execute(f"set temp_directory = {sql_text(workdir)}")
        load_source(con, source)
        source_lines, customers, max_customer, max_invoice, guest_invoices = con.execute("""
            select count(*), count(distinct customer_number), coalesce(max(customer_number), 0),
                   max(invoice_number), count(distinct InvoiceNo) filter (where customer_number is null)
            from source_lines
        """).fetchone()
        invoice_stride = power_of_ten_above(max_invoice)
        customer_stride = power_of_ten_above(max(max_customer, FIRST_SYNTHETIC_GUEST_ID + guest_invoices * times))
        if max_customer + (times - 1) * customer_stride > MAX_CUSTOMER_ID:
            raise SystemExit(f"{times} copies need customer ids above {MAX_CUSTOMER_ID}: use fewer copies")

        assembled = Path(workdir) / output.name
        part = Path(workdir) / f"part.csv{'.gz' if compression == 'gzip' else ''}"
        lines_written = 0
        with assembled.open("wb") as out:
            for copy_number in range(times):
                lines_written += con.execute(f"""
                    copy ({copy_query(copy_number, seed, invoice_stride, customer_stride)})
                    to {sql_text(str(part))} (header {'true' if copy_number == 0 else 'false'}, compression {compression})
                """).fetchone()[0]
                # Concatenated gzip members are one valid gzip stream.
                with part.open("rb") as part_file:
                    shutil.copyfileobj(part_file, out, 16 * 1024 * 1024)
                if (copy_number + 1) % 10 == 0 or copy_number + 1 == times:
                    print(f"  copy {copy_number + 1}/{times}: {lines_written:,} lines, "
                          f"{time.perf_counter() - started:.1f} s", flush=True)
        con.close()
        assembled.replace(output)

    summary = {
        "output": str(output),
        "lines": lines_written,
        "source_lines": source_lines,
        "customers": customers * times,
        "bytes": output.stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"wrote {output}: {summary['lines']:,} lines ({times} x {source_lines:,}), "
          f"{summary['customers']:,} customers, {summary['bytes'] / 2**20:,.0f} MiB in {summary['seconds']} s")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="the Online Retail CSV (.csv or .csv.gz)")
    parser.add_argument("--times", type=int, required=True, help="number of copies N (1 or more)")
    parser.add_argument("--output", type=Path, help="default data/scale/online_retail_x{N}.csv; .gz compresses")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit")
    args = parser.parse_args()
    if args.times < 1:
        parser.error("--times must be 1 or more")
    output = args.output or PROJECT_DIR / f"data/scale/online_retail_x{args.times}.csv"
    generate(args.source, args.times, output, args.seed, args.memory_limit)


if __name__ == "__main__":
    main()

"""A raw Online Retail file whose customers fall into planted groups."""

import csv
import datetime

import numpy as np

START = datetime.datetime(2011, 1, 3, 9, 0)
DAYS = 340

# name: (customers, invoices per customer, days since last purchase, pounds per line)
GROUPS = {
    "vip": (40, (18, 30), (0, 10), (40.0, 60.0)),
    "regular": (120, (4, 8), (30, 90), (8.0, 12.0)),
    "lapsed": (240, (1, 1), (200, 300), (2.0, 4.0)),
}


def write_planted_file(path, seed: int = 0) -> dict[int, str]:
    """Writes the file; returns each customer's planted group."""
    rng = np.random.default_rng(seed)
    groups, invoice_no, customer_id = {}, 600000, 20000
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                         "CustomerID", "Country"])
        for group, (customers, invoices, recency, price) in GROUPS.items():
            for _ in range(customers):
                customer_id += 1
                groups[customer_id] = group
                last_day = DAYS - rng.integers(*recency, endpoint=True)
                count = rng.integers(*invoices, endpoint=True)
                days = sorted(set(rng.integers(0, last_day, size=count - 1).tolist()) | {int(last_day)})
                for day in days:
                    invoice_no += 1
                    when = START + datetime.timedelta(days=int(day), minutes=int(rng.integers(0, 480)))
                    for line in range(3):
                        writer.writerow([invoice_no, f"P{line}{rng.integers(0, 50)}", "ITEM", 2,
                                         when.strftime("%Y-%m-%d %H:%M:%S"),
                                         f"{rng.uniform(*price) / 2:.2f}", f"{customer_id}.0", "United Kingdom"])
                    if group == "vip" and day == days[0]:  # Postage: rejected, in no feature.
                        writer.writerow([invoice_no, "POST", "POSTAGE", 1, when.strftime("%Y-%m-%d %H:%M:%S"),
                                        "18.00", f"{customer_id}.0", "United Kingdom"])
    return groups

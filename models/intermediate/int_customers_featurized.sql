{{ customer_base(as_of_date()) }}

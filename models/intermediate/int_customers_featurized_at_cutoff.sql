{# The customer base as it was at the validation cutoff, same formulas. #}
{{ customer_base(validation_cutoff()) }}

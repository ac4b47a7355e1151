{#
  The data-quality gate, a post-hook of the ledger (int_invoice_lines_classified):
  when more than var max_rejected_share of the raw lines are rejected, the
  input is wrong (another file, a changed format) rather than dirty. The hook
  stops the build with the count of each rejection reason and its first line.
  Raised inside the model's transaction, it also rolls the ledger back, and
  everything downstream (the marts, the clustering, the Insiders CSV, the
  membership history) is skipped: they keep their last good state.
#}
{% macro ledger_quality_gate() %}
    {% if not execute %}
        {{ return('') }}
    {% endif %}
    {% set limit = var('max_rejected_share') %}
    {% set totals = run_query(
        "select count(*), sum(case when disposition = 'rejected' then 1 else 0 end)"
        ~ " from " ~ this
    ).rows[0] %}
    {% set lines, rejected = totals[0], totals[1] or 0 %}
    {% if lines == 0 or rejected <= limit * lines %}
        {% do ledger_customer_gate() %}
        {{ return('') }}
    {% endif %}
    {% set reasons = run_query(
        "select rejection_reason, count(*), min(line_number) + 1 from " ~ this
        ~ " where disposition = 'rejected'"
        ~ " group by rejection_reason order by count(*) desc, rejection_reason"
    ).rows %}
    {% set details = [] %}
    {% for reason in reasons %}
        {% do details.append(reason[0] ~ " " ~ reason[1] ~ " (first at line "
            ~ reason[2] ~ ")") %}
    {% endfor %}
    {% set file = ledger_source_file() %}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ file ~ ": " ~ rejected ~ " of its " ~ lines ~ " lines ("
        ~ ((100.0 * rejected / lines) | round(1)) ~ " %) are rejected, more than"
        ~ " max_rejected_share (" ~ (100.0 * limit) ~ " %): "
        ~ (details | join('; '))
        ~ ". Is it the right file, in the expected format? Nothing downstream of"
        ~ " the ledger was built; the marts keep their last good state. To accept"
        ~ " it anyway, raise the var max_rejected_share."
    ) }}
{% endmacro %}


{#
  The clustering needs customers: t-SNE's perplexity (30) must stay below
  their number, and the out-of-time validation clusters the customer base at
  the validation cutoff again. So a file with fewer than var min_customers (31)
  identified customers with a sale before the as_of_date, or before the
  validation cutoff (a file of one month: no history to validate on), stops
  here with a message, rather than in a Python model with a scikit-learn
  traceback.
#}
{% macro ledger_customer_gate() %}
    {% set minimum = var('min_customers') %}
    {# The dates of int_analysis_dates, which is built after the ledger. #}
    {% set counts = run_query(
        "with valid_invoice_days as (" ~ valid_invoice_days(this) ~ "),"
        ~ " analysis_dates as (select "
        ~ as_of_date_from('last_valid_invoice_date') ~ " as as_of_date, "
        ~ validation_cutoff_from('last_valid_invoice_date') ~ " as validation_cutoff"
        ~ " from valid_invoice_days)"
        ~ " select count(distinct case when lines.invoice_date < analysis_dates.as_of_date"
        ~ " then lines.customer_id end),"
        ~ " count(distinct case when lines.invoice_date < analysis_dates.validation_cutoff"
        ~ " then lines.customer_id end),"
        ~ " max(cast(analysis_dates.validation_cutoff as varchar(10)))"
        ~ " from " ~ this ~ " as lines cross join analysis_dates"
        ~ " where lines.disposition = 'sale' and lines.customer_id is not null"
    ).rows[0] %}
    {% if counts[0] >= minimum and counts[1] >= minimum %}
        {{ return('') }}
    {% endif %}
    {% set file = ledger_source_file() %}
    {% if counts[0] < minimum %}
        {% set problem = "only " ~ counts[0] ~ " identified customer(s) with a sale"
            ~ (" before " ~ var('as_of_date') if var('as_of_date') else "")
            ~ "; the clustering needs at least " ~ minimum ~ " (var min_customers)."
            ~ " Is it the whole file?" %}
    {% else %}
        {% set problem = "only " ~ counts[1] ~ " identified customer(s) with a sale"
            ~ " before the validation cutoff " ~ counts[2] ~ " (var validation_cutoff, or"
            ~ " the last invoice day minus validation_months); the out-of-time"
            ~ " validation needs at least " ~ minimum ~ " (var min_customers). Does the"
            ~ " file hold the whole history, not only the last months?" %}
    {% endif %}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ file ~ ": " ~ problem ~ " Nothing downstream of the ledger"
        ~ " was built; the marts keep their last good state."
    ) }}
{% endmacro %}


{# The raw file the ledger was built from, for the gates' messages. #}
{% macro ledger_source_file() %}
    {{ return(run_query(
        "select max(source_file) from " ~ source('online_retail', 'invoice_lines')
    ).rows[0][0]) }}
{% endmacro %}

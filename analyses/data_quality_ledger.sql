-- Where every raw line went, and how many lines each cleaning rule removed.
with ledger as (

    select * from {{ ref('ledger_reconciliation') }}

),

rejected as (

    select
        'rejected' as disposition,
        rejection_reason,
        count(*) as lines
    from {{ ref('rejected_invoice_lines') }}
    group by rejection_reason

)

select
    ledger.disposition,
    coalesce(rejected.rejection_reason, '') as rejection_reason,
    coalesce(rejected.lines, ledger.lines) as lines,
    ledger.raw_lines
from ledger
left join rejected on ledger.disposition = rejected.disposition
order by ledger.disposition asc, lines desc

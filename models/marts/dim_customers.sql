with customers as (

    select * from {{ ref('int_customers_featurized') }}

)

select * from customers

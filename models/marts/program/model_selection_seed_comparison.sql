{#
  The seed notebooks' published silhouettes beside this project's at the
  same space, algorithm and number of clusters (question: does the grid
  reproduce the seed's?). The seed's come from its own features and scaling.
#}
with seed_notebooks as (

    select * from {{ ref('seed_notebook_silhouettes') }}

),

model_selection as (

    select * from {{ ref('model_selection') }}

),

final as (

    select
        seed_notebooks.reference_order,
        seed_notebooks.space,
        seed_notebooks.algorithm,
        seed_notebooks.n_clusters,
        cast(seed_notebooks.silhouette as double) as seed_silhouette,
        model_selection.silhouette
    from seed_notebooks
    left join model_selection
        on
            seed_notebooks.space = model_selection.space
            and seed_notebooks.algorithm = model_selection.algorithm
            and seed_notebooks.n_clusters = model_selection.n_clusters

)

select * from final

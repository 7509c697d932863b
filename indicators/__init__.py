"""Read side of the warehouse: indicator catalogue, queries, secret rules, charts and exports."""

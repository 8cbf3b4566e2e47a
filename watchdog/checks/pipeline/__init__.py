"""Pipeline runs: failed or late runs of the jobs (Airflow, dbt) that write a table."""

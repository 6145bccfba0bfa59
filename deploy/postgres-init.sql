-- Run once by the postgres image on an empty volume: Prefect gets its own database
-- beside the application's (POSTGRES_DB=highlights).
CREATE DATABASE prefect;

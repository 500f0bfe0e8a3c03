-- Runs once, when the postgres data volume is empty (docker-entrypoint-initdb.d), as POSTGRES_USER,
-- which therefore owns the new database. POSTGRES_DB (the app database, default "intake") is
-- created by the image itself; this adds the second one, for Rasa's SQL tracker store
-- (TRACKER_DB in compose.yaml). Changing the name here means changing TRACKER_DB there too.
CREATE DATABASE rasa_tracker;

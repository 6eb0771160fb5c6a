-- Runs once, when the postgres container initialises an empty data volume:
-- one database per service, all owned by the compose file's POSTGRES_USER. None is open to PUBLIC:
-- only its owner connects, and reporting's migrations let its analysts' group (reporting_reader)
-- into conveyor_reporting alone (docs/analysts.md).
CREATE DATABASE conveyor_entities;
CREATE DATABASE conveyor_pipelines;
CREATE DATABASE conveyor_automation;
CREATE DATABASE conveyor_notifications;
CREATE DATABASE conveyor_reporting;
REVOKE CONNECT, TEMPORARY ON DATABASE conveyor_entities FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE conveyor_pipelines FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE conveyor_automation FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE conveyor_notifications FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE conveyor_reporting FROM PUBLIC;

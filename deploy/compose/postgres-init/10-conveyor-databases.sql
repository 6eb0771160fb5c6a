-- Runs once, when the postgres container initialises an empty data volume:
-- one database per service, all owned by the compose file's POSTGRES_USER.
CREATE DATABASE conveyor_entities;
CREATE DATABASE conveyor_pipelines;
CREATE DATABASE conveyor_automation;
CREATE DATABASE conveyor_notifications;
CREATE DATABASE conveyor_reporting;

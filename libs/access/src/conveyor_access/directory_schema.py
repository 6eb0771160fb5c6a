"""The directory read model's tables; a service runs ``DIRECTORY_DDL_V1`` in one of its migrations."""

DIRECTORY_DDL_V1 = """
CREATE TABLE IF NOT EXISTS directory_users (
    tenant_id       text    NOT NULL,
    user_id         text    NOT NULL,
    name            text    NOT NULL,
    email           text    NOT NULL,
    department_ids  text[]  NOT NULL DEFAULT '{}',
    roles           text[]  NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    version         bigint  NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX IF NOT EXISTS directory_users_by_department ON directory_users USING gin (department_ids);
CREATE INDEX IF NOT EXISTS directory_users_by_role ON directory_users USING gin (roles);

CREATE TABLE IF NOT EXISTS directory_departments (
    tenant_id      text    NOT NULL,
    department_id  text    NOT NULL,
    name           text    NOT NULL,
    parent_id      text,
    head_user_id   text,
    removed        boolean NOT NULL DEFAULT false,
    version        bigint  NOT NULL,
    PRIMARY KEY (tenant_id, department_id)
);
CREATE INDEX IF NOT EXISTS directory_departments_by_parent ON directory_departments (tenant_id, parent_id);

CREATE TABLE IF NOT EXISTS directory_absences (
    tenant_id           text        NOT NULL,
    absence_id          text        NOT NULL,
    user_id             text        NOT NULL,
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    substitute_user_id  text,
    reason              text,
    cancelled           boolean     NOT NULL DEFAULT false,
    version             bigint      NOT NULL,
    PRIMARY KEY (tenant_id, absence_id)
);
CREATE INDEX IF NOT EXISTS directory_absences_by_user ON directory_absences (tenant_id, user_id, starts_at);

CREATE TABLE IF NOT EXISTS directory_role_grants (
    tenant_id       text   NOT NULL,
    role            text   NOT NULL,
    entity_type_id  text   NOT NULL,
    pipeline_id     text   NOT NULL DEFAULT '',  -- '' = every pipeline of the type
    actions         jsonb  NOT NULL,              -- {"read": "own", ...}
    version         bigint NOT NULL,
    PRIMARY KEY (tenant_id, role, entity_type_id, pipeline_id)
);
CREATE INDEX IF NOT EXISTS directory_role_grants_by_type ON directory_role_grants (tenant_id, entity_type_id);
"""

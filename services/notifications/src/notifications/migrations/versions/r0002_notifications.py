"""Inbox, preferences, templates, e-mail and webhook queues, calendar, reminders, item watchers, directory copy.

Revision ID: 0002_notifications
"""

from conveyor_access.directory import DIRECTORY_DDL_V1
from conveyor_kit.migrations import execute_script

revision = "0002_notifications"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE inbox (
    tenant_id       text        NOT NULL,
    notification_id text        NOT NULL,
    recipient_id    text        NOT NULL,
    kind            text        NOT NULL,
    title           text        NOT NULL,
    body            text        NOT NULL,
    item_id         text,
    entity_type_id  text,
    source          text,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    PRIMARY KEY (tenant_id, notification_id)
);
CREATE INDEX inbox_by_recipient ON inbox (tenant_id, recipient_id, created_at DESC, notification_id DESC);
CREATE INDEX inbox_unread ON inbox (tenant_id, recipient_id) WHERE read_at IS NULL;

CREATE TABLE command_keys (
    tenant_id    text        NOT NULL,
    key          text        NOT NULL,
    command_type text        NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE preferences (
    tenant_id text  NOT NULL,
    user_id   text  NOT NULL,
    language  text  NOT NULL DEFAULT 'en',
    channels  jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE tenant_settings (
    tenant_id                  text    PRIMARY KEY,
    stage_change_notifications boolean NOT NULL DEFAULT false,
    webhook_secret             text    NOT NULL
);

CREATE TABLE templates (
    tenant_id   text        NOT NULL,
    template_id text        NOT NULL,
    name        text        NOT NULL,
    variables   text[]      NOT NULL,
    variants    jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, template_id)
);

CREATE TABLE emails (
    tenant_id       text        NOT NULL,
    email_id        text        NOT NULL,
    recipients      text[]      NOT NULL,
    subject         text        NOT NULL,
    body_text       text        NOT NULL,
    body_html       text,
    source          text,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    PRIMARY KEY (tenant_id, email_id)
);
CREATE INDEX emails_due ON emails (next_attempt_at) WHERE status = 'pending';

CREATE TABLE calendar_entries (
    tenant_id      text        NOT NULL,
    entry_id       text        NOT NULL,
    title          text        NOT NULL,
    description    text,
    kind           text        NOT NULL,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL,
    organizer_id   text,
    attendee_ids   text[]      NOT NULL DEFAULT '{}',
    item_id        text,
    entity_type_id text,
    reminders      jsonb       NOT NULL DEFAULT '[]'::jsonb,
    status         text        NOT NULL DEFAULT 'scheduled',
    version        int         NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entry_id)
);
CREATE INDEX calendar_by_time ON calendar_entries (tenant_id, start_at);

CREATE TABLE calendar_feeds (
    token_hash text        PRIMARY KEY,
    tenant_id  text        NOT NULL,
    user_id    text        NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE UNIQUE INDEX calendar_feed_per_user ON calendar_feeds (tenant_id, user_id) WHERE revoked_at IS NULL;

CREATE TABLE reminders (
    tenant_id    text        NOT NULL,
    entry_id     text        NOT NULL,
    recipient_id text        NOT NULL,
    due_at       timestamptz NOT NULL,
    status       text        NOT NULL DEFAULT 'pending',
    sent_at      timestamptz,
    PRIMARY KEY (tenant_id, entry_id, recipient_id, due_at)
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'pending';

CREATE TABLE webhook_subscriptions (
    tenant_id            text        NOT NULL,
    subscription_id      text        NOT NULL,
    url                  text        NOT NULL,
    event_types          text[]      NOT NULL,
    secret               text        NOT NULL,
    active               boolean     NOT NULL DEFAULT true,
    consecutive_failures int         NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL,
    disabled_at          timestamptz,
    PRIMARY KEY (tenant_id, subscription_id)
);

CREATE TABLE webhook_deliveries (
    tenant_id       text        NOT NULL,
    delivery_id     text        NOT NULL,
    subscription_id text,
    url             text        NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    secret          text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    PRIMARY KEY (tenant_id, delivery_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id    text        NOT NULL,
    delivery_id  text        NOT NULL,
    attempt      int         NOT NULL,
    at           timestamptz NOT NULL,
    status_code  int,
    error        text,
    duration_ms  double precision NOT NULL,
    PRIMARY KEY (tenant_id, delivery_id, attempt)
);

CREATE TABLE item_watchers (
    tenant_id      text   NOT NULL,
    item_id        text   NOT NULL,
    entity_type_id text   NOT NULL,
    title          text   NOT NULL,
    assignee_id    text,
    observer_ids   text[] NOT NULL DEFAULT '{}',
    deleted        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, item_id)
);

CREATE TABLE stage_names (
    tenant_id text NOT NULL,
    stage_id  text NOT NULL,
    name      text NOT NULL,
    PRIMARY KEY (tenant_id, stage_id)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    execute_script(DIRECTORY_DDL_V1)


def downgrade() -> None:
    raise NotImplementedError("notifications' tables hold users' inboxes and calendars; never dropped by hand")

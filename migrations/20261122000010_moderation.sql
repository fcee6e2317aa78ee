-- Moderation: account limits and suspensions, reports, warnings and the audit log.

-- Set on local and remote accounts alike. A suspension or limit that came from
-- a domain block carries the block's created_at, so lifting the block lifts
-- exactly those (as Mastodon does).
ALTER TABLE accounts
    ADD COLUMN silenced_at   timestamptz,
    ADD COLUMN suspended_at  timestamptz,
    ADD COLUMN sensitized_at timestamptz;
CREATE INDEX accounts_suspended ON accounts (suspended_at) WHERE suspended_at IS NOT NULL;

ALTER TABLE domain_blocks
    ADD COLUMN id bigint NOT NULL DEFAULT stoa_id(),
    ADD COLUMN reject_reports boolean NOT NULL DEFAULT false,
    -- Declared in the config file: replaced from it at every start.
    ADD COLUMN from_config boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX domain_blocks_id ON domain_blocks (id);

-- Suspended authors' posts are visible to nobody.
CREATE OR REPLACE FUNCTION status_visible_to(
    s_id bigint, s_account_id bigint, s_visibility status_visibility, viewer bigint
) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (
           s_visibility IN ('public', 'unlisted')
        OR (viewer IS NOT NULL AND (
               viewer = s_account_id
            OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s_id AND m.account_id = viewer)
            OR (s_visibility = 'private' AND EXISTS (
                    SELECT 1 FROM follows f WHERE f.account_id = viewer AND f.target_account_id = s_account_id))
        ))
    ) AND (viewer IS NULL OR viewer = s_account_id OR NOT EXISTS (
        SELECT 1 FROM blocks b
        WHERE (b.account_id = s_account_id AND b.target_account_id = viewer)
           OR (b.account_id = viewer AND b.target_account_id = s_account_id)))
      AND NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = s_account_id AND sa.suspended_at IS NOT NULL)
$$;

-- Is this account limited (by itself or its domain) or suspended? Limited
-- accounts stay out of public timelines and of the notifications of people
-- who do not follow them.
CREATE FUNCTION account_is_limited(a_id bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM accounts a WHERE a.id = a_id AND (
            a.silenced_at IS NOT NULL OR a.suspended_at IS NOT NULL
            OR (a.domain IS NOT NULL AND domain_block_severity(a.domain) IN ('silence', 'suspend'))))
$$;

CREATE TYPE report_category AS ENUM ('spam', 'legal', 'violation', 'other');

CREATE TABLE reports (
    id                         bigint PRIMARY KEY DEFAULT stoa_id(),
    -- Who reported: a local user, or the remote actor that sent a Flag.
    account_id                 bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id          bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids                 bigint[] NOT NULL DEFAULT '{}',
    rule_ids                   bigint[] NOT NULL DEFAULT '{}',
    comment                    text NOT NULL DEFAULT '',
    category                   report_category NOT NULL DEFAULT 'other',
    forwarded                  boolean NOT NULL DEFAULT false,
    -- The Flag's id for reports from other servers; ours for forwarded ones.
    uri                        text UNIQUE,
    assigned_account_id        bigint REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_at            timestamptz,
    action_taken_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_open ON reports (id DESC) WHERE action_taken_at IS NULL;
CREATE INDEX reports_target ON reports (target_account_id, id DESC);

CREATE TYPE account_warning_action AS ENUM ('none', 'disable', 'sensitive', 'silence', 'suspend');

-- What a moderator did to an account, as the account is told of it.
CREATE TABLE account_warnings (
    id                bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id        bigint REFERENCES accounts (id) ON DELETE SET NULL,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action            account_warning_action NOT NULL,
    text              text NOT NULL DEFAULT '',
    report_id         bigint REFERENCES reports (id) ON DELETE SET NULL,
    status_ids        bigint[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_warnings_target ON account_warnings (target_account_id, id DESC);

-- The audit log: every moderation and administration action.
CREATE TABLE admin_action_logs (
    id          bigint PRIMARY KEY DEFAULT stoa_id(),
    -- The moderator; NULL when done from the `stoa admin` CLI.
    account_id  bigint REFERENCES accounts (id) ON DELETE SET NULL,
    action      text NOT NULL,
    target_type text NOT NULL,
    target_id   text NOT NULL,
    summary     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_action_logs_recent ON admin_action_logs (id DESC);

ALTER TYPE notification_type ADD VALUE 'moderation_warning';
ALTER TYPE notification_type ADD VALUE 'admin.report';

ALTER TABLE notifications
    ADD COLUMN account_warning_id bigint REFERENCES account_warnings (id) ON DELETE CASCADE,
    ADD COLUMN report_id bigint REFERENCES reports (id) ON DELETE CASCADE;
DROP INDEX notifications_once;
CREATE UNIQUE INDEX notifications_once ON notifications
    (account_id, from_account_id, type, coalesce(status_id, 0),
     coalesce(account_warning_id, 0), coalesce(report_id, 0));

-- Allow-list federation (`federation.mode = "allowlist"` in the config,
-- written here at every start): only these domains and their subdomains.
CREATE TABLE domain_allows (
    domain     text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE federation_policy (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    allowlist boolean NOT NULL DEFAULT false
);
INSERT INTO federation_policy DEFAULT VALUES;

-- Is all traffic with `host` refused: suspended, or outside the allow-list?
CREATE FUNCTION domain_refused(host text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(domain_block_severity(host) = 'suspend', false)
        OR ((SELECT allowlist FROM federation_policy) AND NOT EXISTS (
               SELECT 1 FROM domain_allows a,
                      (SELECT regexp_replace(lower(host), ':[0-9]+$', '') AS h) n
               WHERE a.domain = n.h OR right(n.h, length(a.domain) + 1) = '.' || a.domain))
$$;

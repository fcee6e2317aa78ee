-- Stoa's initial schema.
--
-- Ids are Mastodon-style snowflakes: milliseconds since the Unix epoch shifted
-- left by 16 bits, plus a 16-bit sequence. They sort by creation time, are
-- serialised to clients as decimal strings, and let Mastodon.py turn a
-- datetime into a pagination cursor.

CREATE SEQUENCE stoa_id_seq AS bigint CYCLE;

CREATE FUNCTION stoa_id(at timestamptz DEFAULT clock_timestamp()) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT ((floor(extract(epoch FROM at) * 1000))::bigint << 16)
         | (nextval('stoa_id_seq') & 65535)
$$;

-- Every account, local or remote. Local accounts have domain NULL and a row in
-- users; remote accounts (federation) only live here.
CREATE TABLE accounts (
    id              bigint PRIMARY KEY DEFAULT stoa_id(),
    username        text NOT NULL,
    domain          text,
    display_name    text NOT NULL DEFAULT '',
    note            text NOT NULL DEFAULT '',          -- rendered HTML
    note_source     text NOT NULL DEFAULT '',          -- what the user typed
    fields          jsonb NOT NULL DEFAULT '[]',        -- [{name, value, value_html, verified_at}]
    locked          boolean NOT NULL DEFAULT false,
    bot             boolean NOT NULL DEFAULT false,
    discoverable    boolean NOT NULL DEFAULT true,
    indexable       boolean NOT NULL DEFAULT true,
    hide_collections boolean NOT NULL DEFAULT false,
    uri             text NOT NULL,
    url             text NOT NULL,
    followers_count bigint NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
    following_count bigint NOT NULL DEFAULT 0 CHECK (following_count >= 0),
    statuses_count  bigint NOT NULL DEFAULT 0 CHECK (statuses_count >= 0),
    last_status_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), coalesce(lower(domain), ''));
CREATE UNIQUE INDEX accounts_uri ON accounts (uri);
CREATE INDEX accounts_search ON accounts (lower(username) text_pattern_ops);

CREATE TYPE user_role AS ENUM ('user', 'moderator', 'admin');

-- Local sign-in identities.
CREATE TABLE users (
    account_id          bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email               text NOT NULL,
    password_hash       text NOT NULL,
    role                user_role NOT NULL DEFAULT 'user',
    approved            boolean NOT NULL DEFAULT true,
    confirmed_at        timestamptz,
    disabled            boolean NOT NULL DEFAULT false,
    locale              text NOT NULL DEFAULT 'en',
    registration_reason text NOT NULL DEFAULT '',
    default_privacy     text NOT NULL DEFAULT 'public',
    default_sensitive   boolean NOT NULL DEFAULT false,
    default_language    text,
    created_by_application_id bigint,
    last_sign_in_at     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE oauth_applications (
    id            bigint PRIMARY KEY DEFAULT stoa_id(),
    name          text NOT NULL,
    website       text,
    redirect_uris text[] NOT NULL,
    scopes        text[] NOT NULL,
    client_id     text NOT NULL UNIQUE,
    client_secret text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Short-lived codes of the authorization_code grant; stored hashed.
CREATE TABLE oauth_authorization_codes (
    code_hash             bytea PRIMARY KEY,
    application_id        bigint NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    account_id            bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes                text[] NOT NULL,
    redirect_uri          text NOT NULL,
    code_challenge        text,
    expires_at            timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens; only a SHA-256 of the token is stored. account_id is NULL
-- for client_credentials (app-only) tokens.
CREATE TABLE oauth_access_tokens (
    id             bigint PRIMARY KEY DEFAULT stoa_id(),
    token_hash     bytea NOT NULL UNIQUE,
    application_id bigint NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    account_id     bigint REFERENCES accounts (id) ON DELETE CASCADE,
    scopes         text[] NOT NULL,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_access_tokens_account ON oauth_access_tokens (account_id);

-- Browser sessions of the HTML pages (sign-in, consent); stored hashed.
CREATE TABLE web_sessions (
    token_hash  bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

CREATE TYPE status_visibility AS ENUM ('public', 'unlisted', 'private', 'direct');

CREATE TABLE statuses (
    id                     bigint PRIMARY KEY DEFAULT stoa_id(),
    uri                    text NOT NULL,
    url                    text,
    account_id             bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    in_reply_to_id         bigint REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
    reblog_of_id           bigint REFERENCES statuses (id) ON DELETE CASCADE,
    text                   text NOT NULL DEFAULT '',      -- source as typed
    content                text NOT NULL DEFAULT '',      -- rendered HTML
    spoiler_text           text NOT NULL DEFAULT '',
    sensitive              boolean NOT NULL DEFAULT false,
    visibility             status_visibility NOT NULL,
    language               text,
    application_id         bigint REFERENCES oauth_applications (id) ON DELETE SET NULL,
    local                  boolean NOT NULL,
    replies_count          bigint NOT NULL DEFAULT 0 CHECK (replies_count >= 0),
    reblogs_count          bigint NOT NULL DEFAULT 0 CHECK (reblogs_count >= 0),
    favourites_count       bigint NOT NULL DEFAULT 0 CHECK (favourites_count >= 0),
    created_at             timestamptz NOT NULL DEFAULT now(),
    edited_at              timestamptz
);
CREATE UNIQUE INDEX statuses_uri ON statuses (uri);
CREATE INDEX statuses_account_id ON statuses (account_id, id DESC);
CREATE INDEX statuses_in_reply_to ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id, account_id) WHERE reblog_of_id IS NOT NULL;
CREATE UNIQUE INDEX statuses_one_reblog_per_account ON statuses (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE INDEX statuses_public ON statuses (id DESC) WHERE visibility = 'public' AND reblog_of_id IS NULL;

-- Former versions of edited statuses, oldest first by id.
CREATE TABLE status_edits (
    id           bigint PRIMARY KEY DEFAULT stoa_id(),
    status_id    bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text         text NOT NULL,
    content      text NOT NULL,
    spoiler_text text NOT NULL,
    sensitive    boolean NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id DESC);

CREATE TABLE tags (
    id         bigint PRIMARY KEY DEFAULT stoa_id(),
    name       text NOT NULL UNIQUE,     -- normalised (lowercase)
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE statuses_tags (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id    bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX statuses_tags_status ON statuses_tags (status_id);

CREATE TABLE follows (
    id                bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      boolean NOT NULL DEFAULT true,
    notify            boolean NOT NULL DEFAULT false,
    uri               text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, id DESC);

CREATE TABLE follow_requests (
    id                bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs      boolean NOT NULL DEFAULT true,
    notify            boolean NOT NULL DEFAULT false,
    uri               text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id DESC);

CREATE TABLE favourites (
    id         bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id, id DESC);
CREATE INDEX favourites_account ON favourites (account_id, id DESC);

CREATE TABLE bookmarks (
    id         bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, status_id)
);
CREATE INDEX bookmarks_account ON bookmarks (account_id, id DESC);

CREATE TYPE notification_type AS ENUM
    ('mention', 'status', 'reblog', 'follow', 'follow_request', 'favourite', 'poll', 'update');

CREATE TABLE notifications (
    id              bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type            notification_type NOT NULL,
    status_id       bigint REFERENCES statuses (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_account ON notifications (account_id, id DESC);
CREATE UNIQUE INDEX notifications_once ON notifications (account_id, from_account_id, type, coalesce(status_id, 0));

CREATE TABLE markers (
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline     text NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id bigint NOT NULL,
    version      integer NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, timeline)
);

-- Idempotency-Key of POST /api/v1/statuses: written in the same transaction
-- as the status, so a retried request finds the status it created.
CREATE TABLE idempotency_keys (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key        text NOT NULL,
    status_id  bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

-- Who may see a status. The one definition of visibility; every query that
-- returns statuses to a viewer filters through it. viewer NULL = anonymous.
CREATE FUNCTION status_visible_to(
    s_id bigint, s_account_id bigint, s_visibility status_visibility, viewer bigint
) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT s_visibility IN ('public', 'unlisted')
        OR (viewer IS NOT NULL AND (
               viewer = s_account_id
            OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s_id AND m.account_id = viewer)
            OR (s_visibility = 'private' AND EXISTS (
                    SELECT 1 FROM follows f WHERE f.account_id = viewer AND f.target_account_id = s_account_id))
        ))
$$;

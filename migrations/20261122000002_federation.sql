-- Federation: actor endpoints and keys, the delivery outbox, known
-- instances, and tombstones of deleted remote objects.

ALTER TABLE accounts
    ADD COLUMN actor_type       text NOT NULL DEFAULT 'Person',
    ADD COLUMN inbox_url        text,
    ADD COLUMN shared_inbox_url text,
    ADD COLUMN outbox_url       text,
    ADD COLUMN followers_url    text,
    ADD COLUMN following_url    text,
    ADD COLUMN featured_url     text,
    -- The key other servers verify our (or its) signatures with.
    ADD COLUMN key_id           text,
    ADD COLUMN public_key_pem   text,
    -- Local accounts only; generated when the account first federates.
    ADD COLUMN private_key_pem  text,
    -- When a remote actor document was last fetched.
    ADD COLUMN fetched_at       timestamptz;

CREATE UNIQUE INDEX accounts_key_id ON accounts (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX accounts_remote_domain ON accounts (lower(domain)) WHERE domain IS NOT NULL;
CREATE INDEX accounts_followers_url ON accounts (followers_url) WHERE followers_url IS NOT NULL;

-- Remote Like and follow activities are undone by their id.
ALTER TABLE favourites ADD COLUMN uri text;
CREATE UNIQUE INDEX favourites_uri ON favourites (uri) WHERE uri IS NOT NULL;
CREATE UNIQUE INDEX follows_uri ON follows (uri) WHERE uri IS NOT NULL;
CREATE UNIQUE INDEX follow_requests_uri ON follow_requests (uri) WHERE uri IS NOT NULL;

-- Outgoing activities waiting to reach an inbox. This table is the durable
-- truth; Redis only signals that a row is due. A row is deleted once
-- delivered or given up, so the table holds only work still to do.
CREATE TABLE deliveries (
    id              bigint PRIMARY KEY DEFAULT stoa_id(),
    inbox_url       text NOT NULL,
    host            text NOT NULL,
    sender_id       bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The exact bytes to send: the signature's digest covers them.
    payload         text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at);
CREATE INDEX deliveries_host ON deliveries (host);

-- Every remote server we have heard of, and how reachable it is.
CREATE TABLE instances (
    domain          text PRIMARY KEY,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz,
    failing_since   timestamptz,
    failures        integer NOT NULL DEFAULT 0
);

-- Deleted remote objects: a Create arriving after its Delete is refused.
CREATE TABLE tombstones (
    uri        text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

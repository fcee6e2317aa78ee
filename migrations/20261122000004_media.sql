-- Media attachments of statuses, and avatars and headers of accounts.
-- Files live in the configured storage (filesystem or S3); rows hold their
-- storage keys and what clients need to lay them out.

CREATE TYPE media_type AS ENUM ('image', 'gifv', 'video', 'audio', 'unknown');
CREATE TYPE media_state AS ENUM ('processing', 'ready', 'failed');

CREATE TABLE media_attachments (
    id              bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id      bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id       bigint REFERENCES statuses (id) ON DELETE SET NULL,
    kind            media_type NOT NULL,
    state           media_state NOT NULL DEFAULT 'processing',
    -- The raw upload, kept only until it is processed.
    upload_key      text,
    file_key        text,
    file_content_type text,
    file_size       bigint,
    preview_key     text,
    preview_content_type text,
    -- Mastodon's `meta`: original and small sizes, focus, duration.
    meta            jsonb NOT NULL DEFAULT '{}',
    blurhash        text,
    description     text NOT NULL DEFAULT '',
    focus_x         real NOT NULL DEFAULT 0 CHECK (focus_x BETWEEN -1 AND 1),
    focus_y         real NOT NULL DEFAULT 0 CHECK (focus_y BETWEEN -1 AND 1),
    -- Why processing failed, shown to the uploader.
    error           text,
    -- The original URL of remote media.
    remote_url      text,
    position        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position) WHERE status_id IS NOT NULL;
CREATE INDEX media_attachments_unattached ON media_attachments (account_id, created_at) WHERE status_id IS NULL;

ALTER TABLE accounts
    ADD COLUMN avatar_media_id bigint REFERENCES media_attachments (id) ON DELETE SET NULL,
    ADD COLUMN header_media_id bigint REFERENCES media_attachments (id) ON DELETE SET NULL;

-- Copies of other servers' media (attachments, avatars, headers) kept here so
-- that readers' browsers never fetch from remote servers. Each stored file is
-- a row, so the cache can be pruned by age and kept under a size budget; a
-- pruned file is fetched again when someone needs it.

CREATE TABLE cached_files (
    key        text PRIMARY KEY,
    bytes      bigint NOT NULL CHECK (bytes >= 0),
    -- What the file belongs to: an attachment, or an account's avatar or header.
    purpose    text NOT NULL CHECK (purpose IN ('media', 'avatar', 'header')),
    media_id   bigint REFERENCES media_attachments (id) ON DELETE CASCADE,
    account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((purpose = 'media') = (media_id IS NOT NULL))
);
CREATE INDEX cached_files_age ON cached_files (created_at);
CREATE INDEX cached_files_media ON cached_files (media_id) WHERE media_id IS NOT NULL;
CREATE INDEX cached_files_account ON cached_files (account_id) WHERE account_id IS NOT NULL;

-- When the cache last tried to fetch a remote file, so that a broken one is
-- not fetched again on every view.
ALTER TABLE media_attachments ADD COLUMN cache_attempted_at timestamptz;

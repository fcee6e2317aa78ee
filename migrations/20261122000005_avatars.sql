-- Avatars and headers live on the account row, so every Account entity can
-- be presented without another query: storage keys for local files, the
-- origin URLs for remote ones until they are cached.

ALTER TABLE accounts
    DROP COLUMN avatar_media_id,
    DROP COLUMN header_media_id,
    ADD COLUMN avatar_key         text,
    ADD COLUMN avatar_static_key  text,
    ADD COLUMN avatar_content_type text,
    ADD COLUMN header_key         text,
    ADD COLUMN header_static_key  text,
    ADD COLUMN header_content_type text,
    ADD COLUMN avatar_remote_url  text,
    ADD COLUMN header_remote_url  text;

-- Blocks. A block hides each account's statuses and notifications from the
-- other and ends follows both ways; remote blocks arrive as Block activities.

CREATE TABLE blocks (
    id                bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri               text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, target_account_id),
    CHECK (account_id <> target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);
CREATE UNIQUE INDEX blocks_uri ON blocks (uri) WHERE uri IS NOT NULL;

-- Visibility now also hides statuses across a block, in either direction.
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
$$;

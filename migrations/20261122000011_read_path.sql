-- The read path: limited and suspended accounts are plain column tests.
--
-- A domain block stamps the accounts of its domain (`silenced_at` or
-- `suspended_at` = the block's created_at), and accounts created under an
-- existing block are stamped when they are inserted
-- (`stoa_db::accounts::upsert_remote`). So "limited" no longer needs the
-- block covering the account's domain to be looked up for every row.

-- Stamp the accounts of domains blocked before stamping on insert existed,
-- with the block that covers them (as `domain_block_for` decides), so that
-- the column tests are exactly what `account_is_limited` computed.
UPDATE accounts a SET silenced_at = (domain_block_for(a.domain)).created_at
WHERE a.domain IS NOT NULL AND a.silenced_at IS NULL
  AND (domain_block_for(a.domain)).severity = 'silence';
UPDATE accounts a SET suspended_at = (domain_block_for(a.domain)).created_at
WHERE a.domain IS NOT NULL AND a.suspended_at IS NULL
  AND (domain_block_for(a.domain)).severity = 'suspend';

-- Replaced by `a.silenced_at IS NULL AND a.suspended_at IS NULL` on the
-- author joined once per query.
DROP FUNCTION account_is_limited(bigint);

-- Hashtag timelines need no new index: they walk `statuses_tags_pkey`
-- (tag_id, status_id) backwards, newest first, and stop at the page size
-- (`stoa_db::statuses::tagged`).

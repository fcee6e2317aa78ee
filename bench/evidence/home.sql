\set v 115393883010039808
SELECT following_count FROM accounts WHERE username='u500' AND domain IS NULL;
EXPLAIN (ANALYZE, BUFFERS) WITH followed AS (SELECT target_account_id AS id, show_reblogs FROM follows WHERE account_id = :v)
SELECT s.id, s.uri, s.content FROM statuses s WHERE (s.account_id = :v OR s.account_id IN (SELECT id FROM followed)
 OR (s.visibility = 'public' AND s.id IN (SELECT st.status_id FROM statuses_tags st JOIN tag_follows tf ON tf.tag_id = st.tag_id AND st.status_id >= tf.id WHERE tf.account_id = :v)))
 AND (s.reblog_of_id IS NULL OR s.account_id = :v OR s.account_id IN (SELECT id FROM followed WHERE show_reblogs))
 AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id OR s.in_reply_to_account_id = :v OR s.in_reply_to_account_id IN (SELECT id FROM followed))
 AND status_visible_to(s.id, s.account_id, s.visibility, :v::bigint)
 ORDER BY s.id DESC LIMIT 21;

EXPLAIN (ANALYZE, BUFFERS) SELECT s.id, s.uri, s.content FROM statuses s WHERE s.visibility = 'public' AND s.reblog_of_id IS NULL
 AND s.id IN (SELECT st.status_id FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE t.name = ANY(ARRAY['tag1']))
 AND NOT EXISTS (SELECT 1 FROM accounts da WHERE da.id = s.account_id AND da.domain IS NOT NULL AND domain_block_severity(da.domain) IN ('silence', 'suspend'))
 ORDER BY s.id DESC LIMIT 21;

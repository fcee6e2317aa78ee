//! The data generator: fills a fresh, migrated database with bulk SQL.
//!
//! This SQL lives here and not in `stoa-db` because it is a tool that writes
//! many rows at once, never the server's logic. It follows the schema of
//! `migrations/` closely so that every counter, notification and key is what
//! Stoa itself would have written.
//!
//! Ids are deterministic, so rows can reference each other without lookups:
//! local account `i` (1-based) has id `(base_ms + i) << 16`, remote account
//! `j` has `(base_ms + 1_000_000 + j) << 16`, and status `n` has
//! `((status_base_ms + n * step) << 16) | (n & 65535)`, ordered by time.

use anyhow::{Context, Result};
use sqlx::{Connection, Executor, PgConnection};
use stoa_activitypub::signature::PrivateKey;

use crate::Scale;

/// How many distinct key pairs the generated accounts share. Generating a
/// real RSA key per account would take minutes; accounts reuse these.
pub const LOCAL_KEY_POOL: usize = 4;
pub const REMOTE_KEY_POOL: usize = 8;
/// Number of distinct hashtags (`tag1` is the most used).
pub const TAGS: i64 = 1000;
/// Password of every generated user.
pub const PASSWORD: &str = "stoa-bench-password";

/// Plaintext bearer token of local account `i` (its SHA-256 is stored).
pub fn token_of(i: i64) -> String {
    format!("stoabench-{i}")
}

/// Key pairs as PEMs: (private, public).
pub fn key_pool(n: usize) -> Result<Vec<(String, String)>> {
    (0..n)
        .map(|_| {
            let key = PrivateKey::generate()?;
            Ok((key.to_pem()?, key.public_key().to_pem()?))
        })
        .collect()
}

pub struct Generated {
    pub local_keys: Vec<(String, String)>,
    pub remote_keys: Vec<(String, String)>,
}

/// Fills the database (already migrated, and empty).
pub async fn generate(
    database_url: &str,
    base_url: &str,
    scale: &Scale,
    sink_port: u16,
) -> Result<Generated> {
    let mut db = PgConnection::connect(database_url)
        .await
        .context("connecting to the bench database")?;
    let local_keys = key_pool(LOCAL_KEY_POOL)?;
    let remote_keys = key_pool(REMOTE_KEY_POOL)?;
    let hash = password_hash()?;

    let l = scale.locals;
    let r = scale.remotes;
    let inst = scale.instances;
    let t = l + r;
    let n = scale.statuses;
    let step = (90 * 86_400_000 / n).max(1);

    db.execute("SET synchronous_commit = off").await?;
    db.execute("SET maintenance_work_mem = '256MB'").await?;
    db.execute("SET work_mem = '64MB'").await?;
    sqlx::query(
        "CREATE TEMP TABLE params AS SELECT \
         (extract(epoch FROM now() - interval '400 days') * 1000)::bigint AS base_ms, \
         (extract(epoch FROM now() - interval '91 days') * 1000)::bigint AS status_ms",
    )
    .execute(&mut db)
    .await?;
    // acct(c): the id of account c of the combined ranking, locals first.
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.acct(c bigint) RETURNS bigint LANGUAGE sql STABLE AS \
             $$ SELECT ((SELECT base_ms FROM params) + CASE WHEN c <= {l} THEN c ELSE 1000000 + c - {l} END) << 16 $$"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.sid(n bigint) RETURNS bigint LANGUAGE sql STABLE AS \
             $$ SELECT (((SELECT status_ms FROM params) + n * {step}) << 16) | (n & 65535) $$"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.author_uri(c bigint, base text) RETURNS text LANGUAGE sql IMMUTABLE AS \
             $$ SELECT CASE WHEN c <= {l} THEN base || '/users/u' || c \
                ELSE 'https://i' || (1 + (c - {l}) % {inst}) || '.bench.example/users/r' || (c - {l}) END $$"
        )
        .as_str(),
    )
    .await?;

    let local_priv: Vec<&str> = local_keys.iter().map(|k| k.0.as_str()).collect();
    let local_pub: Vec<&str> = local_keys.iter().map(|k| k.1.as_str()).collect();
    let remote_pub: Vec<&str> = remote_keys.iter().map(|k| k.1.as_str()).collect();

    step_log("local accounts");
    sqlx::query(&format!(
        "INSERT INTO accounts (id, username, uri, url, display_name, note, note_source, created_at, updated_at, \
           inbox_url, shared_inbox_url, outbox_url, followers_url, following_url, featured_url, \
           key_id, public_key_pem, private_key_pem) \
         SELECT pg_temp.acct(i), 'u' || i, $1 || '/users/u' || i, $1 || '/@u' || i, 'Bench user ' || i, \
           '<p>I am bench user ' || i || '.</p>', 'I am bench user ' || i || '.', \
           now() - interval '400 days' + i * interval '1 second', now(), \
           $1 || '/users/u' || i || '/inbox', $1 || '/inbox', $1 || '/users/u' || i || '/outbox', \
           $1 || '/users/u' || i || '/followers', $1 || '/users/u' || i || '/following', \
           $1 || '/users/u' || i || '/collections/featured', $1 || '/users/u' || i || '#main-key', \
           ($2::text[])[1 + i % {kp}], ($3::text[])[1 + i % {kp}] \
         FROM generate_series(1, {l}) i",
        kp = LOCAL_KEY_POOL
    ))
    .bind(base_url)
    .bind(&local_pub)
    .bind(&local_priv)
    .execute(&mut db)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO users (account_id, email, password_hash, approved, confirmed_at, created_at, last_sign_in_at) \
         SELECT pg_temp.acct(i), 'u' || i || '@bench.example', $1, true, now(), \
           now() - interval '400 days' + i * interval '1 second', now() \
         FROM generate_series(1, {l}) i"
    ))
    .bind(&hash)
    .execute(&mut db)
    .await?;
    // u1 is an admin, like the first account of a real instance.
    sqlx::query("UPDATE users SET role = 'admin' WHERE account_id = pg_temp.acct(1)")
        .execute(&mut db)
        .await?;

    step_log("remote instances and accounts");
    sqlx::query(&format!(
        "INSERT INTO instances (domain, first_seen_at, last_success_at) \
         SELECT 'i' || k || '.bench.example', now() - interval '300 days', now() FROM generate_series(1, {inst}) k"
    ))
    .execute(&mut db)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO accounts (id, username, domain, uri, url, display_name, note, created_at, updated_at, \
           actor_type, inbox_url, shared_inbox_url, outbox_url, followers_url, following_url, \
           key_id, public_key_pem, fetched_at) \
         SELECT pg_temp.acct({l} + j), 'r' || j, 'i' || k || '.bench.example', \
           'https://i' || k || '.bench.example/users/r' || j, 'https://i' || k || '.bench.example/@r' || j, \
           'Remote ' || j, '<p>Remote bench account</p>', now() - interval '300 days', now(), 'Person', \
           'http://127.4.' || (k / 250 + 1) || '.' || (k % 250 + 1) || ':{sink_port}/users/r' || j || '/inbox', \
           'http://127.4.' || (k / 250 + 1) || '.' || (k % 250 + 1) || ':{sink_port}/inbox', \
           'https://i' || k || '.bench.example/users/r' || j || '/outbox', \
           'https://i' || k || '.bench.example/users/r' || j || '/followers', \
           'https://i' || k || '.bench.example/users/r' || j || '/following', \
           'https://i' || k || '.bench.example/users/r' || j || '#main-key', \
           ($1::text[])[1 + j % {kp}], now() \
         FROM (SELECT j, 1 + j % {inst} AS k FROM generate_series(1, {r}) j) g",
        kp = REMOTE_KEY_POOL
    ))
    .bind(&remote_pub)
    .execute(&mut db)
    .await?;

    step_log("follow graph");
    // Locals follow a log-normal number of accounts (median 150); 7 % of the
    // targets are drawn log-uniformly over the ranking (a few accounts get
    // thousands of followers), the rest uniformly.
    db.execute(
        format!(
            "INSERT INTO follows (account_id, target_account_id, created_at) \
             SELECT pg_temp.acct(a.i), pg_temp.acct(x.t), now() - random() * interval '300 days' \
             FROM (SELECT i, greatest(1, least(5000, floor(exp(ln(150) + 0.7 * sqrt(-2 * ln(1 - random())) \
                     * cos(2 * pi() * random())))))::int AS k FROM generate_series(1, {l}) i) a, \
             LATERAL (SELECT CASE WHEN random() < 0.07 THEN floor(exp(random() * ln({t})))::bigint \
                      ELSE 1 + floor(random() * {t})::bigint END + 0 * a.k AS t \
                      FROM generate_series(1, a.k)) x \
             WHERE x.t <> a.i AND x.t BETWEEN 1 AND {t} \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;
    // Remote accounts follow three local accounts each, skewed to the popular.
    db.execute(
        format!(
            "INSERT INTO follows (account_id, target_account_id, uri, created_at) \
             SELECT pg_temp.acct({l} + j), pg_temp.acct(x.t), \
               pg_temp.author_uri({l} + j, '') || '#follows/' || x.t, now() - random() * interval '300 days' \
             FROM generate_series(1, {r}) j, \
             LATERAL (SELECT least({l}, floor(exp(random() * ln({l})))::bigint + 0 * j) AS t \
                      FROM generate_series(1, 3)) x \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;

    step_log("statuses");
    // One row per status to be: author c, kind, visibility, tag, mention and
    // parent (a recent earlier status).
    db.execute(
        format!(
            "CREATE TEMP TABLE g AS SELECT n, \
               CASE WHEN random() < 0.2 \
                 THEN CASE WHEN random() < 0.5 THEN least({l}, floor(exp(random() * ln({l})))::bigint) \
                      ELSE 1 + floor(random() * {l})::bigint END \
                 ELSE {l} + CASE WHEN random() < 0.5 THEN least({r}, floor(exp(random() * ln({r})))::bigint) \
                      ELSE 1 + floor(random() * {r})::bigint END END AS c, \
               random() AS rk, random() AS rv, \
               CASE WHEN random() < 0.2 THEN least({TAGS}, floor(exp(random() * ln({TAGS})))::int) END AS tg, \
               CASE WHEN random() < 0.05 THEN 1 + floor(random() * {l})::bigint END AS mention, \
               greatest(1, n - 1 - floor(random() * 2000))::bigint AS pn \
             FROM generate_series(1, {n}) n"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        "CREATE TEMP TABLE s AS SELECT g.n, g.c, g.pn, p.c AS pc, g.tg, \
           CASE WHEN g.pn < g.n AND g.rk < 0.10 AND p.rk >= 0.30 AND p.rv < 0.85 AND p.c <> g.c THEN 'boost' \
                WHEN g.pn < g.n AND g.rk >= 0.10 AND g.rk < 0.30 AND p.rk >= 0.10 AND p.rv < 0.85 THEN 'reply' \
                ELSE 'orig' END AS kind, \
           g.rv, g.mention \
         FROM g JOIN g p ON p.n = g.pn",
    )
    .await?;
    // Mentioned account: the parent's author for replies, else the drawn one.
    db.execute(
        "CREATE TEMP TABLE st AS SELECT n, c, pn, pc, kind, \
           CASE WHEN kind = 'boost' THEN NULL WHEN kind = 'reply' AND pc <> c THEN pc \
                WHEN kind = 'orig' AND mention <> c THEN mention END AS m, \
           CASE WHEN kind = 'boost' THEN NULL ELSE tg END AS tg, \
           CASE WHEN kind = 'boost' THEN 'public' WHEN rv < 0.75 THEN 'public' WHEN rv < 0.85 THEN 'unlisted' \
                WHEN rv < 0.97 OR (kind = 'orig' AND (mention IS NULL OR mention = c)) OR kind = 'reply' AND pc = c \
                THEN 'private' ELSE 'direct' END AS vis \
         FROM s",
    )
    .await?;
    db.execute("CREATE INDEX ON st (n)").await?;
    sqlx::query(&format!(
        "INSERT INTO statuses (id, uri, url, account_id, in_reply_to_id, in_reply_to_account_id, reblog_of_id, \
           text, content, visibility, language, local, created_at) \
         SELECT pg_temp.sid(n), \
           pg_temp.author_uri(c, $1) || '/statuses/' || pg_temp.sid(n) || CASE WHEN kind = 'boost' THEN '/activity' ELSE '' END, \
           CASE WHEN kind = 'boost' THEN NULL ELSE pg_temp.author_uri(c, $1) || '/statuses/' || pg_temp.sid(n) END, \
           pg_temp.acct(c), \
           CASE WHEN kind = 'reply' THEN pg_temp.sid(pn) END, \
           CASE WHEN kind = 'reply' THEN pg_temp.acct(pc) END, \
           CASE WHEN kind = 'boost' THEN pg_temp.sid(pn) END, \
           CASE WHEN kind = 'boost' THEN '' ELSE \
             coalesce('@' || CASE WHEN m <= {l} THEN 'u' || m ELSE 'r' || (m - {l}) END || ' ', '') || \
             'Bench status ' || n || ', about research, models and the weather today' || \
             coalesce(' #tag' || tg, '') END, \
           CASE WHEN kind = 'boost' THEN '' ELSE '<p>' || \
             coalesce('<span class=\"h-card\"><a href=\"' || pg_temp.author_uri(m, $1) || \
               '\" class=\"u-url mention\">@<span>' || CASE WHEN m <= {l} THEN 'u' || m ELSE 'r' || (m - {l}) END || \
               '</span></a></span> ', '') || \
             'Bench status ' || n || ', about research, models and the weather today' || \
             coalesce(' <a href=\"' || $1 || '/tags/tag' || tg || '\" class=\"mention hashtag\" rel=\"tag\">#<span>tag' || \
               tg || '</span></a>', '') || '</p>' END, \
           vis::status_visibility, CASE WHEN kind = 'boost' THEN NULL ELSE 'en' END, c <= {l}, \
           to_timestamp(((SELECT status_ms FROM params) + n::bigint * {step}) / 1000.0) \
         FROM st ORDER BY n \
         ON CONFLICT DO NOTHING"
    ))
    .bind(base_url)
    .execute(&mut db)
    .await?;

    step_log("mentions, tags");
    db.execute(
        "INSERT INTO mentions (status_id, account_id) \
         SELECT pg_temp.sid(n), pg_temp.acct(m) FROM st WHERE m IS NOT NULL ON CONFLICT DO NOTHING",
    )
    .await?;
    db.execute(
        format!(
            "INSERT INTO tags (name, display_name) SELECT 'tag' || k, 'tag' || k FROM generate_series(1, {TAGS}) k"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        "INSERT INTO statuses_tags (status_id, tag_id) \
         SELECT pg_temp.sid(st.n), t.id FROM st JOIN tags t ON t.name = 'tag' || st.tg \
         WHERE st.tg IS NOT NULL ON CONFLICT DO NOTHING",
    )
    .await?;
    // One local in ten follows one of the twenty most used hashtags.
    db.execute(
        format!(
            "INSERT INTO tag_follows (account_id, tag_id, id) \
             SELECT pg_temp.acct(i), t.id, stoa_id(now() - interval '200 days') \
             FROM generate_series(1, {l}) i JOIN tags t ON t.name = 'tag' || (1 + i % 20) \
             WHERE i % 10 = 0 ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;

    step_log("favourites");
    db.execute(
        format!(
            "INSERT INTO favourites (id, account_id, status_id, created_at) \
             SELECT stoa_id(least(now(), to_timestamp(((SELECT status_ms FROM params) + x.n * {step}) / 1000.0) \
                      + random() * interval '2 days')), \
               pg_temp.acct(x.a), pg_temp.sid(x.n), now() \
             FROM (SELECT 1 + floor(random() * {n})::bigint AS n, \
                     CASE WHEN random() < 0.4 THEN 1 + floor(random() * {l})::bigint \
                          ELSE {l} + 1 + floor(random() * {r})::bigint END AS a \
                   FROM generate_series(1, {fav})) x \
             JOIN st ON st.n = x.n AND st.kind <> 'boost' AND st.vis IN ('public', 'unlisted') \
             ON CONFLICT DO NOTHING",
            fav = scale.favourites
        )
        .as_str(),
    )
    .await?;
    db.execute("UPDATE favourites f SET created_at = to_timestamp(((f.id >> 16)) / 1000.0)")
        .await?;

    step_log("notifications");
    // Mentions, boosts, favourites and follows of local accounts by others,
    // with the ids of the rows that caused them (so they sort by time).
    db.execute(
        format!(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at) \
             SELECT s.id, m.account_id, s.account_id, 'mention', s.id, s.created_at \
             FROM mentions m JOIN statuses s ON s.id = m.status_id \
             WHERE m.account_id <= pg_temp.acct({l}) AND m.account_id <> s.account_id \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        format!(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at) \
             SELECT b.id, o.account_id, b.account_id, 'reblog', o.id, b.created_at \
             FROM statuses b JOIN statuses o ON o.id = b.reblog_of_id \
             WHERE o.local AND o.account_id <= pg_temp.acct({l}) AND o.account_id <> b.account_id \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at) \
         SELECT f.id, s.account_id, f.account_id, 'favourite', s.id, f.created_at \
         FROM favourites f JOIN statuses s ON s.id = f.status_id \
         WHERE s.local AND s.account_id <> f.account_id \
         ON CONFLICT DO NOTHING",
    )
    .await?;
    db.execute(
        format!(
            "INSERT INTO notifications (id, account_id, from_account_id, type, created_at) \
             SELECT f.id, f.target_account_id, f.account_id, 'follow', f.created_at \
             FROM follows f WHERE f.target_account_id <= pg_temp.acct({l}) \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;

    step_log("counters");
    db.execute(
        "UPDATE accounts a SET following_count = x.c FROM \
         (SELECT account_id, count(*) AS c FROM follows GROUP BY 1) x WHERE a.id = x.account_id",
    )
    .await?;
    db.execute(
        "UPDATE accounts a SET followers_count = x.c FROM \
         (SELECT target_account_id, count(*) AS c FROM follows GROUP BY 1) x WHERE a.id = x.target_account_id",
    )
    .await?;
    db.execute(
        "UPDATE accounts a SET statuses_count = x.c, last_status_at = x.at FROM \
         (SELECT account_id, count(*) AS c, max(created_at) AS at FROM statuses GROUP BY 1) x \
         WHERE a.id = x.account_id",
    )
    .await?;
    db.execute(
        "UPDATE statuses s SET replies_count = x.c FROM \
         (SELECT in_reply_to_id, count(*) AS c FROM statuses WHERE in_reply_to_id IS NOT NULL GROUP BY 1) x \
         WHERE s.id = x.in_reply_to_id",
    )
    .await?;
    db.execute(
        "UPDATE statuses s SET reblogs_count = x.c FROM \
         (SELECT reblog_of_id, count(*) AS c FROM statuses WHERE reblog_of_id IS NOT NULL GROUP BY 1) x \
         WHERE s.id = x.reblog_of_id",
    )
    .await?;
    db.execute(
        "UPDATE statuses s SET favourites_count = x.c FROM \
         (SELECT status_id, count(*) AS c FROM favourites GROUP BY 1) x WHERE s.id = x.status_id",
    )
    .await?;

    step_log("application and tokens");
    let app_id: i64 = sqlx::query_scalar(
        "INSERT INTO oauth_applications (name, website, redirect_uris, scopes, client_id, client_secret) \
         VALUES ('stoa-bench', NULL, '{urn:ietf:wg:oauth:2.0:oob}', '{read,write,follow,push}', \
                 'stoa-bench', 'stoa-bench-secret') RETURNING id",
    )
    .fetch_one(&mut db)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO oauth_access_tokens (token_hash, application_id, account_id, scopes) \
         SELECT sha256(convert_to('stoabench-' || i, 'UTF8')), $1, pg_temp.acct(i), '{{read,write,follow,push}}' \
         FROM generate_series(1, {l}) i"
    ))
    .bind(app_id)
    .execute(&mut db)
    .await?;

    step_log("vacuum analyze");
    db.execute("VACUUM ANALYZE").await?;
    db.close().await?;
    Ok(Generated {
        local_keys,
        remote_keys,
    })
}

fn step_log(what: &str) {
    eprintln!(
        "[generate] {} {what}",
        chrono::Utc::now().format("%H:%M:%S")
    );
}

/// One Argon2id hash (the server's parameters) shared by every user.
fn password_hash() -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::from_b64("c3RvYWJlbmNoc2FsdA").map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct() {
        assert_ne!(token_of(1), token_of(2));
        assert_eq!(token_of(7), "stoabench-7");
    }

    #[test]
    fn password_hash_verifies() {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let hash = password_hash().unwrap();
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(argon2::Argon2::default()
            .verify_password(PASSWORD.as_bytes(), &parsed)
            .is_ok());
    }
}

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

use std::time::Instant;

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
    pub steps: Vec<Step>,
}

/// How long one step of the generation took.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub name: String,
    pub seconds: f64,
}

/// Times the steps of the generation and logs each as it ends.
struct Steps {
    done: Vec<Step>,
    current: Option<(&'static str, Instant)>,
}

impl Steps {
    fn new() -> Steps {
        Steps {
            done: Vec::new(),
            current: None,
        }
    }

    fn start(&mut self, name: &'static str) {
        self.end();
        eprintln!("[generate] {name}…");
        self.current = Some((name, Instant::now()));
    }

    fn end(&mut self) {
        if let Some((name, at)) = self.current.take() {
            let seconds = at.elapsed().as_secs_f64();
            eprintln!("[generate] {name}: {seconds:.1} s");
            self.done.push(Step {
                name: name.to_owned(),
                seconds,
            });
        }
    }

    fn finish(mut self) -> Vec<Step> {
        self.end();
        self.done
    }
}

/// The tables filled with many rows. Their foreign keys and secondary
/// indexes are dropped before the load and rebuilt after it: one sort per
/// index and one join per foreign key instead of a B-tree insert and a
/// trigger per row. The primary keys stay.
const BULK_TABLES: &[&str] = &[
    "follows",
    "statuses",
    "mentions",
    "statuses_tags",
    "favourites",
    "notifications",
];

/// What was dropped from the bulk tables, as the statements that restore it.
struct Deferred {
    indexes: Vec<String>,
    foreign_keys: Vec<String>,
}

/// Drops the foreign keys, unique constraints (other than primary keys) and
/// plain indexes of [`BULK_TABLES`], read from the catalogue so that later
/// migrations are covered too, and returns how to recreate them.
async fn defer_constraints(db: &mut PgConnection) -> Result<Deferred> {
    let tables: Vec<String> = BULK_TABLES.iter().map(|t| t.to_string()).collect();
    let constraints: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text, pg_get_constraintdef(c.oid) \
         FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY($1) AND c.contype IN ('f', 'u') \
         ORDER BY c.contype, c.conname",
    )
    .bind(&tables)
    .fetch_all(&mut *db)
    .await?;
    let plain: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) \
         FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1) AND NOT i.indisprimary \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) \
         ORDER BY 1",
    )
    .bind(&tables)
    .fetch_all(&mut *db)
    .await?;
    let mut deferred = Deferred {
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
    };
    // Foreign keys first ('f' sorts before 'u'): none may depend on a unique
    // constraint dropped after it.
    for (table, name, kind, def) in constraints {
        db.execute(format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\"").as_str())
            .await
            .with_context(|| format!("dropping {name} on {table}"))?;
        let restore = format!("ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}");
        if kind == "f" {
            deferred.foreign_keys.push(restore);
        } else {
            deferred.indexes.push(restore);
        }
    }
    for (name, def) in plain {
        db.execute(format!("DROP INDEX {name}").as_str())
            .await
            .with_context(|| format!("dropping index {name}"))?;
        deferred.indexes.push(def);
    }
    Ok(deferred)
}

impl Deferred {
    async fn restore(self, db: &mut PgConnection) -> Result<()> {
        for sql in self.indexes.iter().chain(&self.foreign_keys) {
            db.execute(sql.as_str())
                .await
                .with_context(|| format!("restoring: {sql}"))?;
        }
        Ok(())
    }
}

/// Fills the database (already migrated, and empty).
///
/// Every row is unique by construction (duplicates are removed in the
/// temporary tables), so no statement relies on `ON CONFLICT` while the
/// unique indexes are dropped; restoring them checks it.
pub async fn generate(
    database_url: &str,
    base_url: &str,
    scale: &Scale,
    sink_port: u16,
) -> Result<Generated> {
    let mut steps = Steps::new();
    let mut db = PgConnection::connect(database_url)
        .await
        .context("connecting to the bench database")?;
    steps.start("key pools and password hash");
    let local_keys = key_pool(LOCAL_KEY_POOL)?;
    let remote_keys = key_pool(REMOTE_KEY_POOL)?;
    let hash = password_hash()?;

    let l = scale.locals;
    let r = scale.remotes;
    let inst = scale.instances;
    let t = l + r;
    let n = scale.statuses;
    let step = (90 * 86_400_000 / n).max(1);
    let now_ms = chrono::Utc::now().timestamp_millis();
    // Accounts were created from 400 days ago; statuses span the last 90.
    let base_ms = now_ms - 400 * 86_400_000;
    let status_ms = now_ms - 91 * 86_400_000;

    db.execute("SET synchronous_commit = off").await?;
    db.execute("SET maintenance_work_mem = '512MB'").await?;
    db.execute("SET work_mem = '256MB'").await?;
    // The helpers have constant bodies and are IMMUTABLE, so the planner
    // inlines them instead of calling a function per row.
    // acct(c): the id of account c of the combined ranking, locals first.
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.acct(c bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS \
             $$ SELECT ({base_ms}::bigint + CASE WHEN c <= {l} THEN c ELSE 1000000 + c - {l} END) << 16 $$"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.sid(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS \
             $$ SELECT (({status_ms}::bigint + n * {step}) << 16) | (n & 65535) $$"
        )
        .as_str(),
    )
    .await?;
    db.execute(
        format!(
            "CREATE FUNCTION pg_temp.sat(n bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS \
             $$ SELECT to_timestamp(({status_ms}::bigint + n * {step}) / 1000.0) $$"
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

    steps.start("local accounts and users");
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

    steps.start("remote instances and accounts");
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

    steps.start("drop foreign keys and secondary indexes of the bulk tables");
    let deferred = defer_constraints(&mut db).await?;

    steps.start("follow graph");
    // Locals follow a log-normal number of accounts (median 150); 7 % of the
    // targets are drawn log-uniformly over the ranking (a few accounts get
    // thousands of followers), the rest uniformly. Remote accounts follow
    // three local accounts each, skewed to the popular.
    db.execute(
        format!(
            "INSERT INTO follows (account_id, target_account_id, uri, created_at) \
             SELECT pg_temp.acct(a), pg_temp.acct(t), \
               CASE WHEN a > {l} THEN pg_temp.author_uri(a, '') || '#follows/' || t END, \
               now() - random() * interval '300 days' \
             FROM (SELECT DISTINCT a.i AS a, x.t \
                   FROM (SELECT i, greatest(1, least(5000, floor(exp(ln(150) + 0.7 * sqrt(-2 * ln(1 - random())) \
                           * cos(2 * pi() * random())))))::int AS k FROM generate_series(1, {l}) i) a, \
                   LATERAL (SELECT CASE WHEN random() < 0.07 THEN floor(exp(random() * ln({t})))::bigint \
                            ELSE 1 + floor(random() * {t})::bigint END + 0 * a.k AS t \
                            FROM generate_series(1, a.k)) x \
                   WHERE x.t <> a.i AND x.t BETWEEN 1 AND {t} \
                   UNION \
                   SELECT {l} + j, x.t FROM generate_series(1, {r}) j, \
                   LATERAL (SELECT least({l}, floor(exp(random() * ln({l})))::bigint + 0 * j) AS t \
                            FROM generate_series(1, 3)) x) d"
        )
        .as_str(),
    )
    .await?;

    steps.start("status plan (temporary tables)");
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
    // An account boosts a status at most once: later draws become originals
    // (nothing replies to or boosts them, their rk being < 0.10).
    db.execute(
        "UPDATE s SET kind = 'orig' FROM \
         (SELECT n FROM (SELECT n, row_number() OVER (PARTITION BY c, pn ORDER BY n) AS k \
                         FROM s WHERE kind = 'boost') d WHERE k > 1) dup \
         WHERE s.n = dup.n",
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
         FROM s ORDER BY n",
    )
    .await?;
    db.execute("CREATE UNIQUE INDEX ON st (n)").await?;
    db.execute("ANALYZE st").await?;
    // Favourites (one per account and status) of public and unlisted
    // statuses, within two days of the status.
    db.execute(
        format!(
            "CREATE TEMP TABLE fv AS SELECT d.n, d.a, least(now(), pg_temp.sat(d.n) + random() * interval '2 days') AS at \
             FROM (SELECT DISTINCT x.n, x.a \
                   FROM (SELECT 1 + floor(random() * {n})::bigint AS n, \
                           CASE WHEN random() < 0.4 THEN 1 + floor(random() * {l})::bigint \
                                ELSE {l} + 1 + floor(random() * {r})::bigint END AS a \
                         FROM generate_series(1, {fav})) x \
                   JOIN st ON st.n = x.n AND st.kind <> 'boost' AND st.vis IN ('public', 'unlisted')) d",
            fav = scale.favourites
        )
        .as_str(),
    )
    .await?;
    // The counters of each status, so that statuses are written once.
    db.execute(
        "CREATE TEMP TABLE cnt AS SELECT n, sum(re) AS re, sum(bo) AS bo, sum(fa) AS fa FROM ( \
           SELECT pn AS n, 1 AS re, 0 AS bo, 0 AS fa FROM st WHERE kind = 'reply' \
           UNION ALL SELECT pn, 0, 1, 0 FROM st WHERE kind = 'boost' \
           UNION ALL SELECT n, 0, 0, 1 FROM fv) u GROUP BY n",
    )
    .await?;

    steps.start("statuses");
    sqlx::query(&format!(
        "INSERT INTO statuses (id, uri, url, account_id, in_reply_to_id, in_reply_to_account_id, reblog_of_id, \
           text, content, visibility, language, local, replies_count, reblogs_count, favourites_count, created_at) \
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
           coalesce(cnt.re, 0), coalesce(cnt.bo, 0), coalesce(cnt.fa, 0), pg_temp.sat(n) \
         FROM st LEFT JOIN cnt USING (n) ORDER BY n"
    ))
    .bind(base_url)
    .execute(&mut db)
    .await?;

    steps.start("mentions and tags");
    db.execute(
        "INSERT INTO mentions (status_id, account_id) \
         SELECT pg_temp.sid(n), pg_temp.acct(m) FROM st WHERE m IS NOT NULL",
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
         WHERE st.tg IS NOT NULL",
    )
    .await?;
    // One local in ten follows one of the twenty most used hashtags.
    db.execute(
        format!(
            "INSERT INTO tag_follows (account_id, tag_id, id) \
             SELECT pg_temp.acct(i), t.id, stoa_id(now() - interval '200 days') \
             FROM generate_series(1, {l}) i JOIN tags t ON t.name = 'tag' || (1 + i % 20) \
             WHERE i % 10 = 0"
        )
        .as_str(),
    )
    .await?;

    steps.start("favourites");
    db.execute(
        "INSERT INTO favourites (id, account_id, status_id, created_at) \
         SELECT stoa_id(at), pg_temp.acct(a), pg_temp.sid(n), at FROM fv ORDER BY at",
    )
    .await?;

    steps.start("notifications");
    // Mentions, boosts, favourites and follows of local accounts by others,
    // with the ids of the rows that caused them (so they sort by time). A
    // favourite's id may, very rarely, equal a status's: the primary key
    // keeps the first.
    db.execute(
        format!(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at) \
             SELECT pg_temp.sid(st.n), pg_temp.acct(st.m), pg_temp.acct(st.c), 'mention'::notification_type, pg_temp.sid(st.n), pg_temp.sat(st.n) \
             FROM st WHERE st.m <= {l} AND st.m <> st.c \
             UNION ALL \
             SELECT pg_temp.sid(st.n), pg_temp.acct(st.pc), pg_temp.acct(st.c), 'reblog'::notification_type, pg_temp.sid(st.pn), pg_temp.sat(st.n) \
             FROM st WHERE st.kind = 'boost' AND st.pc <= {l} AND st.pc <> st.c \
             UNION ALL \
             SELECT f.id, s.account_id, f.account_id, 'favourite'::notification_type, s.id, f.created_at \
             FROM favourites f JOIN statuses s ON s.id = f.status_id \
             WHERE s.local AND s.account_id <> f.account_id \
             UNION ALL \
             SELECT f.id, f.target_account_id, f.account_id, 'follow'::notification_type, NULL, f.created_at \
             FROM follows f WHERE f.target_account_id <= pg_temp.acct({l}) \
             ON CONFLICT DO NOTHING"
        )
        .as_str(),
    )
    .await?;

    steps.start("account counters");
    db.execute(
        "UPDATE accounts a SET following_count = coalesce(x.following, 0), \
           followers_count = coalesce(x.followers, 0), statuses_count = coalesce(x.statuses, 0), \
           last_status_at = x.at \
         FROM (SELECT id, sum(following) AS following, sum(followers) AS followers, \
                 sum(statuses) AS statuses, max(at) AS at FROM ( \
                 SELECT account_id AS id, 1 AS following, 0 AS followers, 0 AS statuses, NULL::timestamptz AS at FROM follows \
                 UNION ALL SELECT target_account_id, 0, 1, 0, NULL FROM follows \
                 UNION ALL SELECT account_id, 0, 0, count(*), max(created_at) FROM statuses GROUP BY 1) u \
               GROUP BY id) x \
         WHERE a.id = x.id",
    )
    .await?;

    steps.start("application and tokens");
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

    steps.start("rebuild indexes and foreign keys");
    deferred.restore(&mut db).await?;

    steps.start("vacuum analyze");
    db.execute("DROP TABLE g, s, st, fv, cnt").await?;
    db.execute("VACUUM ANALYZE").await?;
    db.close().await?;
    Ok(Generated {
        local_keys,
        remote_keys,
        steps: steps.finish(),
    })
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

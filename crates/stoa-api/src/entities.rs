//! Mastodon's JSON entities (docs.joinmastodon.org/entities). Field names,
//! types and nullability follow Mastodon exactly: Tusky's parser rejects a
//! whole response when a required field is missing or null.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// RFC 3339 with milliseconds and `Z`, as Mastodon writes datetimes.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ser_time<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp(at))
}

fn ser_opt_time<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&timestamp(at)),
        None => s.serialize_none(),
    }
}

fn ser_id<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

fn ser_opt_id<S: Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.serialize_str(&id.to_string()),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    #[serde(serialize_with = "ser_opt_time")]
    pub verified_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Account {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub username: String,
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub group: bool,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub note: String,
    pub url: String,
    pub uri: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    /// A date (`YYYY-MM-DD`), not a datetime.
    pub last_status_at: Option<String>,
    pub hide_collections: bool,
    pub noindex: bool,
    pub emojis: Vec<serde_json::Value>,
    pub roles: Vec<serde_json::Value>,
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleEntity>,
    /// Present (true) only for suspended accounts, as in Mastodon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// Present (true) only for limited accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub note: String,
    pub fields: Vec<Field>,
    pub follow_requests_count: i64,
    pub hide_collections: bool,
    pub discoverable: bool,
    pub indexable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleEntity {
    pub id: String,
    pub name: String,
    pub color: String,
    pub permissions: String,
    pub highlighted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mention {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub username: String,
    pub url: String,
    pub acct: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    pub name: String,
    pub url: String,
}

/// `url` is null while the file is being processed (Tusky and toot poll
/// until it is set).
#[derive(Debug, Clone, Serialize)]
pub struct MediaAttachment {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    pub preview_remote_url: Option<String>,
    pub text_url: Option<String>,
    pub meta: serde_json::Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub name: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub uri: String,
    pub url: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub account: Account,
    pub content: String,
    pub visibility: &'static str,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<MediaAttachment>,
    pub application: Option<Application>,
    pub mentions: Vec<Mention>,
    pub tags: Vec<Tag>,
    pub emojis: Vec<serde_json::Value>,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub replies_count: i64,
    #[serde(serialize_with = "ser_opt_id")]
    pub in_reply_to_id: Option<i64>,
    #[serde(serialize_with = "ser_opt_id")]
    pub in_reply_to_account_id: Option<i64>,
    pub reblog: Option<Box<Status>>,
    pub poll: Option<serde_json::Value>,
    pub card: Option<serde_json::Value>,
    pub language: Option<String>,
    /// Only set in the reply to DELETE, for delete-and-redraft.
    pub text: Option<String>,
    #[serde(serialize_with = "ser_opt_time")]
    pub edited_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reblogged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookmarked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub account: Account,
    pub poll: Option<serde_json::Value>,
    pub media_attachments: Vec<MediaAttachment>,
    pub emojis: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusSource {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub text: String,
    pub spoiler_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Relationship {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub group_key: String,
    pub account: Account,
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_warning: Option<AccountWarning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// What a moderator did to the recipient's account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountWarning {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub action: String,
    pub text: String,
    pub status_ids: Vec<String>,
    pub target_account: Account,
    pub appeal: Option<serde_json::Value>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
}

/// A report, as its author sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub action_taken: bool,
    #[serde(serialize_with = "ser_opt_time")]
    pub action_taken_at: Option<DateTime<Utc>>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub status_ids: Option<Vec<String>>,
    pub rule_ids: Option<Vec<String>>,
    pub target_account: Account,
}

/// An account as moderators see it (`Admin::Account`).
#[derive(Debug, Clone, Serialize)]
pub struct AdminAccount {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub username: String,
    pub domain: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    pub ip: Option<String>,
    pub ips: Vec<serde_json::Value>,
    pub locale: Option<String>,
    pub invite_request: Option<String>,
    pub role: Option<RoleEntity>,
    pub confirmed: bool,
    pub approved: bool,
    pub disabled: bool,
    pub silenced: bool,
    pub suspended: bool,
    pub sensitized: bool,
    pub account: Account,
    pub created_by_application_id: Option<String>,
    pub invited_by_account_id: Option<String>,
}

/// A report as moderators see it (`Admin::Report`).
#[derive(Debug, Clone, Serialize)]
pub struct AdminReport {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub action_taken: bool,
    #[serde(serialize_with = "ser_opt_time")]
    pub action_taken_at: Option<DateTime<Utc>>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    pub account: AdminAccount,
    pub target_account: AdminAccount,
    pub assigned_account: Option<AdminAccount>,
    pub action_taken_by_account: Option<AdminAccount>,
    pub statuses: Vec<Status>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub text: String,
    pub hint: String,
}

/// A domain block as moderators see it (`Admin::DomainBlock`).
#[derive(Debug, Clone, Serialize)]
pub struct AdminDomainBlock {
    #[serde(serialize_with = "ser_id")]
    pub id: i64,
    pub domain: String,
    pub digest: String,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub last_read_id: String,
    pub version: i32,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OAuthToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub scope: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisteredApplication {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub redirect_uris: Vec<String>,
    pub client_id: String,
    pub client_secret: String,
    pub client_secret_expires_at: i64,
    pub vapid_key: String,
}

/// Mastodon's Tag entity (the full one, as `/api/v1/tags/:name`, trends and
/// search return it). `following` only for a signed-in viewer.
#[derive(Debug, Clone, Serialize)]
pub struct HashtagEntity {
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
}

/// One day of a hashtag's use; every value a string, as in Mastodon.
#[derive(Debug, Clone, Serialize)]
pub struct TagHistory {
    /// Midnight UTC, Unix seconds.
    pub day: String,
    /// Distinct accounts.
    pub accounts: String,
    /// Statuses.
    pub uses: String,
}

/// One week of `/api/v1/instance/activity`; every value a string, as in Mastodon.
#[derive(Debug, Clone, Serialize)]
pub struct WeeklyActivity {
    /// Monday 00:00 UTC, Unix seconds.
    pub week: String,
    pub statuses: String,
    pub logins: String,
    pub registrations: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub accounts: Vec<Account>,
    pub statuses: Vec<Status>,
    pub hashtags: Vec<HashtagEntity>,
}

//! Pure rules of Stoa: the vocabulary every other crate shares.
//!
//! Architecture invariant: this crate does no I/O and knows no wire format.

pub mod scope;
pub mod text;

use std::fmt;
use std::str::FromStr;

/// Who may see a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "status_visibility", rename_all = "lowercase")
)]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }

    /// Public and unlisted statuses may be shown to anyone and boosted.
    pub fn is_distributable(self) -> bool {
        matches!(self, Visibility::Public | Visibility::Unlisted)
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown visibility {0:?}")]
pub struct UnknownVisibility(pub String);

impl FromStr for Visibility {
    type Err = UnknownVisibility;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Visibility::Public),
            "unlisted" => Ok(Visibility::Unlisted),
            "private" => Ok(Visibility::Private),
            "direct" => Ok(Visibility::Direct),
            other => Err(UnknownVisibility(other.to_owned())),
        }
    }
}

/// Role of a local user; each includes the powers of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "user_role", rename_all = "lowercase")
)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// The name Mastodon shows for the role ("" for plain users).
    pub fn display_name(self) -> &'static str {
        match self {
            Role::User => "",
            Role::Moderator => "Moderator",
            Role::Admin => "Admin",
        }
    }

    /// The id of Mastodon's built-in role of the same powers.
    pub fn mastodon_id(self) -> &'static str {
        match self {
            Role::User => "-99",
            Role::Moderator => "2",
            Role::Admin => "3",
        }
    }

    pub fn can(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Moderator => matches!(
                permission,
                Permission::ViewAuditLog
                    | Permission::ViewDashboard
                    | Permission::ManageReports
                    | Permission::ManageUsers
                    | Permission::ManageTaxonomies
            ),
            Role::User => permission == Permission::InviteUsers,
        }
    }

    /// Mastodon's permission bitmask, as `Role.permissions` reports it.
    pub fn permission_bits(self) -> u64 {
        match self {
            // Mastodon's "administrator" bit stands for every permission.
            Role::Admin => Permission::Administrator.bit(),
            _ => Permission::ALL
                .iter()
                .filter(|p| self.can(**p))
                .fold(0, |bits, p| bits | p.bit()),
        }
    }

    /// May someone with this role moderate an account whose owner has `other`?
    /// Only a strictly higher role may (a moderator cannot suspend an admin or
    /// another moderator), as in Mastodon.
    pub fn overrides(self, other: Role) -> bool {
        self > other
    }
}

/// What a role allows; the subset of Mastodon's permissions Stoa enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Administrator,
    ViewAuditLog,
    ViewDashboard,
    ManageReports,
    /// Domain blocks and the federation policy.
    ManageFederation,
    ManageSettings,
    ManageTaxonomies,
    /// Warn, limit, suspend, mark sensitive, approve and reject sign-ups.
    ManageUsers,
    InviteUsers,
    ManageRoles,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::Administrator,
        Permission::ViewAuditLog,
        Permission::ViewDashboard,
        Permission::ManageReports,
        Permission::ManageFederation,
        Permission::ManageSettings,
        Permission::ManageTaxonomies,
        Permission::ManageUsers,
        Permission::InviteUsers,
        Permission::ManageRoles,
    ];

    /// Mastodon's bit for the permission (`UserRole::FLAGS`).
    pub fn bit(self) -> u64 {
        1 << match self {
            Permission::Administrator => 0,
            Permission::ViewAuditLog => 2,
            Permission::ViewDashboard => 3,
            Permission::ManageReports => 4,
            Permission::ManageFederation => 5,
            Permission::ManageSettings => 6,
            Permission::ManageTaxonomies => 8,
            Permission::ManageUsers => 10,
            Permission::InviteUsers => 16,
            Permission::ManageRoles => 17,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} (expected user, moderator or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Ok(Role::User),
            "moderator" => Ok(Role::Moderator),
            "admin" | "owner" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// What a notification tells its recipient about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "notification_type", rename_all = "snake_case")
)]
pub enum NotificationType {
    Mention,
    Status,
    Reblog,
    Follow,
    FollowRequest,
    Favourite,
    Poll,
    Update,
    /// A moderator acted on the recipient's account.
    ModerationWarning,
    /// A new report (to moderators).
    #[cfg_attr(feature = "sqlx", sqlx(rename = "admin.report"))]
    AdminReport,
}

impl NotificationType {
    pub const ALL: [NotificationType; 10] = [
        NotificationType::Mention,
        NotificationType::Status,
        NotificationType::Reblog,
        NotificationType::Follow,
        NotificationType::FollowRequest,
        NotificationType::Favourite,
        NotificationType::Poll,
        NotificationType::Update,
        NotificationType::ModerationWarning,
        NotificationType::AdminReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Mention => "mention",
            NotificationType::Status => "status",
            NotificationType::Reblog => "reblog",
            NotificationType::Follow => "follow",
            NotificationType::FollowRequest => "follow_request",
            NotificationType::Favourite => "favourite",
            NotificationType::Poll => "poll",
            NotificationType::Update => "update",
            NotificationType::ModerationWarning => "moderation_warning",
            NotificationType::AdminReport => "admin.report",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationType> {
        NotificationType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }
}

/// Why a username is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 30 characters")]
    TooLong,
    #[error("must contain only letters, numbers and underscores")]
    InvalidCharacters,
    #[error("is reserved")]
    Reserved,
}

/// Names a local user may not take: they would clash with routes or confuse people.
const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "moderator",
    "mod",
    "staff",
    "webmaster",
    "postmaster",
    "hostmaster",
    "abuse",
    "security",
    "instance",
    "actor",
    "system",
    "stoa",
];

/// Check a new local username the way Mastodon does: `[A-Za-z0-9_]{1,30}`.
/// `allow_reserved` is for admins creating accounts from the CLI.
pub fn validate_username(username: &str, allow_reserved: bool) -> Result<(), UsernameError> {
    if username.is_empty() {
        return Err(UsernameError::Empty);
    }
    if username.chars().count() > 30 {
        return Err(UsernameError::TooLong);
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(UsernameError::InvalidCharacters);
    }
    if !allow_reserved && RESERVED_USERNAMES.contains(&username.to_ascii_lowercase().as_str()) {
        return Err(UsernameError::Reserved);
    }
    Ok(())
}

/// A plausible email address: one `@`, a non-empty local part, a dotted domain,
/// no whitespace. Deliverability is what confirmation mails are for.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && email.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// Minimum and maximum password lengths (Mastodon: 8..72).
pub const PASSWORD_LENGTH: std::ops::RangeInclusive<usize> = 8..=72;

/// Parse a client-supplied id (decimal string). Anything else is "not found"
/// rather than a bad request, as in Mastodon.
pub fn parse_id(raw: &str) -> Option<i64> {
    let id: i64 = raw.parse().ok()?;
    (id > 0).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(validate_username("alice_1", false), Ok(()));
        assert_eq!(validate_username("", false), Err(UsernameError::Empty));
        assert_eq!(
            validate_username(&"a".repeat(31), false),
            Err(UsernameError::TooLong)
        );
        assert_eq!(
            validate_username("al.ice", false),
            Err(UsernameError::InvalidCharacters)
        );
        assert_eq!(
            validate_username("Admin", false),
            Err(UsernameError::Reserved)
        );
        assert_eq!(validate_username("admin", true), Ok(()));
    }

    #[test]
    fn emails() {
        assert!(is_plausible_email("a@example.com"));
        assert!(!is_plausible_email("a@localhost"));
        assert!(!is_plausible_email("@example.com"));
        assert!(!is_plausible_email("a b@example.com"));
        assert!(!is_plausible_email("a@b@example.com"));
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id("123"), Some(123));
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("abc"), None);
        assert_eq!(parse_id("99999999999999999999"), None);
    }

    #[test]
    fn roles_order() {
        assert!(Role::Admin > Role::Moderator && Role::Moderator > Role::User);
        assert_eq!("Admin".parse::<Role>().ok(), Some(Role::Admin));
    }
}

/// A domain as domain blocks and allow-lists store it: lowercase, without a
/// trailing dot or surrounding spaces. None for what cannot be a host name
/// or IP literal.
pub fn normalize_domain(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']'));
    valid.then_some(domain)
}

#[cfg(test)]
mod moderation_tests {
    use super::*;

    #[test]
    fn role_permissions_match_mastodon_bits() {
        assert_eq!(Role::Admin.permission_bits(), 1);
        assert_eq!(Role::Moderator.permission_bits(), 1308);
        assert_eq!(Role::User.permission_bits(), 65536);
        assert!(Role::Moderator.can(Permission::ManageReports));
        assert!(!Role::Moderator.can(Permission::ManageFederation));
        assert!(!Role::Moderator.can(Permission::ManageRoles));
        assert!(Role::Admin.overrides(Role::Moderator));
        assert!(!Role::Moderator.overrides(Role::Moderator));
    }

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            normalize_domain(" Spam.Example. ").as_deref(),
            Some("spam.example")
        );
        assert_eq!(normalize_domain("bad domain"), None);
        assert_eq!(normalize_domain(""), None);
    }
}

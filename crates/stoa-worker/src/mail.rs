//! Sending the mail outbox through SMTP.
//!
//! A mail row is leased while it is sent, deleted when sent (or refused for
//! good), and otherwise rescheduled with a doubling backoff: 16 attempts over
//! about six hours, so a confirmation or reset link survives a restart or a
//! short outage of the SMTP server. The sweep (every few seconds, with the
//! deliveries') re-signals due rows, so neither a lost Redis signal nor a
//! worker crash loses a mail.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use stoa_config::{MailTls, Settings};

use crate::{JobError, Worker};

/// Attempts before a mail is given up.
pub const MAX_ATTEMPTS: i32 = 16;
/// How long a claimed mail is leased: longer than an SMTP exchange may take.
const LEASE_SECS: i32 = 120;

/// Delay before attempt number `attempt + 1`: 5 s, doubling, at most an hour.
pub fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.clamp(1, MAX_ATTEMPTS) - 1).unwrap_or(0);
    Duration::from_secs((5u64 << doublings).min(3600))
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("mail.from {0:?} is not an email address (\"Name <address>\" or a bare address)")]
    From(String),
    #[error("mail.host {host:?}: {source}")]
    Transport {
        host: String,
        source: lettre::transport::smtp::Error,
    },
}

/// The SMTP transport and sender, as `[mail]` describes them.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Right-hand side of Message-IDs.
    id_domain: String,
}

impl Mailer {
    /// None when no SMTP host is configured.
    pub fn from_settings(settings: &Settings) -> Result<Option<Mailer>, MailConfigError> {
        let mail = &settings.mail;
        if !mail.is_configured() {
            return Ok(None);
        }
        let host = mail.host.trim();
        let instance_host = settings
            .instance
            .domain
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(settings.instance.domain.as_str(), |(host, _)| host)
            .to_owned();
        let from = if mail.from.trim().is_empty() {
            let address = format!("notifications@{instance_host}")
                .parse()
                .map_err(|_| MailConfigError::From(format!("notifications@{instance_host}")))?;
            let title = settings.instance.title.trim();
            Mailbox::new((!title.is_empty()).then(|| title.to_owned()), address)
        } else {
            mail.from
                .trim()
                .parse()
                .map_err(|_| MailConfigError::From(mail.from.clone()))?
        };
        let transport_error = |source| MailConfigError::Transport {
            host: host.to_owned(),
            source,
        };
        let builder = match mail.tls {
            MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            MailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(transport_error)?,
            MailTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(transport_error)?
            }
        };
        let hello = match instance_host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => ClientId::Ipv4(ip),
            Ok(IpAddr::V6(ip)) => ClientId::Ipv6(ip),
            Err(_) => ClientId::Domain(instance_host.clone()),
        };
        let mut builder = builder
            .port(mail.port)
            .timeout(Some(Duration::from_secs(mail.timeout_secs.clamp(1, 600))))
            .hello_name(hello);
        if !mail.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                mail.username.clone(),
                mail.password.clone(),
            ));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            id_domain: from.email.domain().to_owned(),
            from,
        }))
    }
}

/// Why one attempt failed.
enum SendError {
    /// Retrying cannot help (a malformed address, a permanent SMTP refusal).
    Permanent(String),
    Transient(String),
}

impl Mailer {
    async fn send(&self, mail: &stoa_db::mail::Mail) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to_address
            .parse()
            .map_err(|e| SendError::Permanent(format!("bad recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            // Stable across retries, so a mail delivered twice is one mail.
            .message_id(Some(format!("<mail-{}@{}>", mail.id, self.id_domain)))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

impl Worker {
    pub(crate) async fn send_mail(&self, mail_id: i64) -> Result<(), JobError> {
        // Without an SMTP server the row waits (mail may be configured later).
        let Some(mailer) = &self.mailer else {
            return Ok(());
        };
        let Some(mail) = stoa_db::mail::claim(&self.pool, mail_id, LEASE_SECS).await? else {
            return Ok(()); // Sent, given up, not yet due, or in other hands.
        };
        match mailer.send(&mail).await {
            Ok(()) => {
                tracing::info!(mail_id, "mail sent");
                stoa_db::mail::finish(&self.pool, mail.id).await?;
            }
            Err(SendError::Permanent(error)) => {
                tracing::warn!(mail_id, %error, "mail refused; not retrying");
                stoa_db::mail::finish(&self.pool, mail.id).await?;
            }
            Err(SendError::Transient(error)) => {
                let attempt = mail.attempts + 1;
                if attempt >= MAX_ATTEMPTS {
                    tracing::warn!(mail_id, %error, "giving up a mail after {attempt} attempts");
                    stoa_db::mail::finish(&self.pool, mail.id).await?;
                } else {
                    let wait = chrono::Duration::from_std(backoff(attempt))
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                    tracing::info!(mail_id, %error, attempt, "mail not sent; will retry");
                    stoa_db::mail::retry(&self.pool, mail.id, Utc::now() + wait, &error).await?;
                }
            }
        }
        Ok(())
    }

    /// Signal every due mail again (retries, and signals lost with Redis).
    pub(crate) async fn sweep_mails(&self) -> Result<usize, JobError> {
        if self.mailer.is_none() {
            return Ok(0);
        }
        let due = stoa_db::mail::due_ids(&self.pool, 1000).await?;
        for mail_id in &due {
            if let Err(e) = self
                .queue
                .push(&stoa_queue::Job::SendMail { mail_id: *mail_id })
                .await
            {
                tracing::warn!(error = %e, "cannot signal mails");
                break;
            }
        }
        Ok(due.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour_over_about_six_hours() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(MAX_ATTEMPTS), Duration::from_secs(3600));
        let total: u64 = (1..MAX_ATTEMPTS).map(|a| backoff(a).as_secs()).sum();
        let hours = total as f64 / 3600.0;
        assert!((5.0..8.0).contains(&hours), "{hours} hours");
    }

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::load(
            None,
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mailer_only_with_a_host_and_a_valid_sender() {
        assert!(Mailer::from_settings(&settings(&[])).unwrap().is_none());
        let mailer = Mailer::from_settings(&settings(&[
            ("STOA_MAIL__HOST", "smtp.example.org"),
            ("STOA_INSTANCE__DOMAIN", "social.example.org"),
            ("STOA_INSTANCE__TITLE", "Social, for all"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            mailer.from.email.to_string(),
            "notifications@social.example.org"
        );
        assert_eq!(mailer.from.name.as_deref(), Some("Social, for all"));
        let bad = Mailer::from_settings(&settings(&[
            ("STOA_MAIL__HOST", "smtp.example.org"),
            ("STOA_MAIL__FROM", "not an address"),
        ]));
        assert!(matches!(bad, Err(MailConfigError::From(_))));
    }
}

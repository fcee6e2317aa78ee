//! What users do, as use cases: each one validates, then changes every table
//! it touches inside one transaction, so a failure leaves nothing half-written.
//! Handlers call these; the federation issue will enqueue deliveries here too,
//! after commit.

pub mod accounts;
pub mod moderation;
pub mod registrations;
pub mod social;
pub mod statuses;

//! End-to-end tests: each test starts its own Stoa (`TestApp::spawn`) with a
//! fresh database and talks to it over HTTP, as a Mastodon client would.

mod accounts;
mod blocks;
mod clients;
mod directory;
mod domain_blocks;
mod errors;
mod faults;
mod federation;
mod fedify;
mod instance;
mod mail;
mod media;
mod media_s3;
mod moderation;
mod notifications;
mod oauth;
mod queue;
mod read_path;
mod statuses;
mod timelines;

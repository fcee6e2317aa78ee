-- Outgoing mail. A row is written in the transaction of the action that
-- causes it (sign-up, confirmation, approval, rejection, password reset) and
-- the Redis queue only signals it, as with `deliveries`: the worker leases a
-- due row, sends it through SMTP and deletes it, or reschedules it with
-- backoff; its sweep re-signals due rows, so a lost signal loses no mail.
-- The message is stored rendered, so it outlives the account it is about
-- (a rejected application is deleted with the notice still to be sent).
-- Rows are deleted once sent or given up: links with secrets in them do not
-- stay in the database.
CREATE TABLE mails (
    id              bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id      bigint REFERENCES accounts (id) ON DELETE SET NULL,
    to_address      text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mails_due ON mails (next_attempt_at);

-- The secrets behind the links of confirmation and password-reset mails,
-- stored as SHA-256 hashes like every other secret.
ALTER TABLE users
    ADD COLUMN confirmation_token_hash   bytea,
    ADD COLUMN confirmation_sent_at      timestamptz,
    ADD COLUMN reset_password_token_hash bytea,
    ADD COLUMN reset_password_sent_at    timestamptz;
CREATE UNIQUE INDEX users_confirmation_token ON users (confirmation_token_hash)
    WHERE confirmation_token_hash IS NOT NULL;
CREATE UNIQUE INDEX users_reset_password_token ON users (reset_password_token_hash)
    WHERE reset_password_token_hash IS NOT NULL;

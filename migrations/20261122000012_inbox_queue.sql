-- Activities accepted at an inbox (signature verified, origin checked) and
-- not yet processed. The server answers 202 once a row is here, processes it
-- in the background, and deletes it; rows left by a crash are picked up again.
CREATE TABLE inbox_queue (
    id           bigint PRIMARY KEY DEFAULT stoa_id(),
    actor_id     bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body         text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbox_queue_waiting ON inbox_queue (created_at);

-- What instance directories read: weekly activity (statuses, sign-ins,
-- sign-ups), and followed hashtags.

-- One row per local user and ISO week (Monday, UTC) in which they signed in;
-- upserted by every sign-in, so a week's logins are its distinct users.
CREATE TABLE login_activities (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    week       date NOT NULL,
    PRIMARY KEY (account_id, week)
);
CREATE INDEX login_activities_week ON login_activities (week);

-- Weekly counts are range counts over these.
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX statuses_local_distributable ON statuses (id)
    WHERE local AND visibility IN ('public', 'unlisted');

-- Hashtags a user follows: their public statuses reach the home timeline.
-- Listed newest first by id.
CREATE TABLE tag_follows (
    id         bigint PRIMARY KEY DEFAULT stoa_id(),
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id     bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, tag_id)
);
CREATE INDEX tag_follows_account ON tag_follows (account_id, id DESC);
CREATE INDEX tag_follows_tag ON tag_follows (tag_id);

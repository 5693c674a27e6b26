-- Rights end when they are removed: every access token names its user's session version and its session (the
-- refresh-token family); moving the version on (a change of role, bindings or password, disabling) or ending the
-- session refuses the token at once.
ALTER TABLE users
    ADD COLUMN session_version integer NOT NULL DEFAULT 1,
    ADD COLUMN disabled boolean NOT NULL DEFAULT false;

-- Failed logins are counted per account and client address, so that guesses from one address cannot lock the
-- account's owner out from everywhere; the client of each session is kept to recognise known clients.
ALTER TABLE login_failures ADD COLUMN client text NOT NULL DEFAULT '';
CREATE INDEX login_failures_email_client_idx ON login_failures (email, client, attempted_at);
ALTER TABLE refresh_tokens ADD COLUMN client text;
CREATE INDEX refresh_tokens_user_client_idx ON refresh_tokens (user_id, client);

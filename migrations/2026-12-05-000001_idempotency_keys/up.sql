-- Safe retries (DESIGN.md §3, `Idempotency-Key`): the first answer to a user's POST or PUT under a key, kept for
-- 24 hours so that a retry with the same request replays it instead of doing the work again.
--
-- A row is inserted before the request runs, without an answer (`status` NULL): the primary key then gives a
-- second request with the same key a 409 while the first runs. The answer is written when the
-- first completes; a server error removes the row, so that a retry runs afresh.
--
-- No foreign key to users: a row outlives its user by at most a day, and an access token that is still valid
-- after its user was deleted claims a key like any other.
CREATE TABLE idempotency_keys (
    user_id     uuid        NOT NULL,
    key         text        NOT NULL,
    -- SHA-256 of the method, the path with its query and the body: another request under the same key is a 422.
    fingerprint bytea       NOT NULL,
    status      smallint,
    -- The answer's headers a replay repeats (content type, Location, ETag), as [name, value] pairs.
    headers     jsonb,
    body        bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_key_length CHECK (length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_fingerprint_length CHECK (length(fingerprint) = 32),
    CONSTRAINT idempotency_keys_status_range CHECK (status BETWEEN 100 AND 599),
    CONSTRAINT idempotency_keys_answer_whole CHECK (
        (status IS NULL AND headers IS NULL AND body IS NULL)
        OR (status IS NOT NULL AND headers IS NOT NULL AND body IS NOT NULL)
    )
);

-- Expired rows are found oldest first and removed a few at a time by the requests that claim keys.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

-- The audit row's request_id is always the server's own id; the id a client sent (X-Request-Id) is kept apart,
-- and only when it is a plain token (the server drops anything else before it gets here).
ALTER TABLE audit_log ADD COLUMN client_request_id text
    CONSTRAINT audit_log_client_request_id_token CHECK (client_request_id ~ '^[A-Za-z0-9._:-]{1,128}$');

DROP INDEX refresh_tokens_user_client_idx;
ALTER TABLE refresh_tokens DROP COLUMN client;
DROP INDEX login_failures_email_client_idx;
ALTER TABLE login_failures DROP COLUMN client;
ALTER TABLE users DROP COLUMN disabled, DROP COLUMN session_version;

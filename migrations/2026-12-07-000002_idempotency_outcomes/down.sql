DROP INDEX audit_log_request_id_idx;
ALTER TABLE idempotency_keys DROP COLUMN request_id;

-- A claim remembers the server's id of the request that made it. Every write commits its audit rows under that
-- id, so whether the claimed request's change was committed can be told from the audit log: a claim whose change
-- committed is never released or taken as abandoned, even when the request's answer was lost (the database went
-- away between the commit and the answer), and a retry can no longer do the change a second time.
ALTER TABLE idempotency_keys ADD COLUMN request_id text;

-- Also what an operator looks audit rows up by when a client quotes a problem's request id.
CREATE INDEX audit_log_request_id_idx ON audit_log (request_id);

DROP TABLE audit_log, login_failures, refresh_tokens, user_councils, users, councils, agencies, organizations, spheres, regions;

DROP TABLE submission_organizations, submissions, consultations, hearing_invited_agencies, hearing_organizers, hearings;

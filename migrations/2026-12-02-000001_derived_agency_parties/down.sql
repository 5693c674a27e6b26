DROP TRIGGER facilities_operating_agency_parties ON facilities;
DROP TRIGGER councils_host_agency_parties ON councils;
DROP FUNCTION rederive_visit_operators(), rederive_meeting_hosts();

-- A meeting's host party is its council's host agency; a monitoring visit's operator party is its facility's
-- operating agency. The kinds derive both when they write a meeting or a visit. When the council or the facility
-- changes agency, these triggers re-derive them in the same statement, so that the directory, which sits below
-- the engagements, needs to know nothing about how engagements store their parties.

CREATE FUNCTION rederive_meeting_hosts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM engagement_parties p
     USING engagements e
     WHERE p.engagement_id = e.id AND e.council_id = NEW.id AND e.kind = 'meeting'
       AND p.role = 'host' AND p.agency_id IS NOT NULL;
    IF NEW.host_agency_id IS NOT NULL THEN
        INSERT INTO engagement_parties (engagement_id, agency_id, role)
        SELECT e.id, NEW.host_agency_id, 'host'
          FROM engagements e
         WHERE e.council_id = NEW.id AND e.kind = 'meeting'
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER councils_host_agency_parties
    AFTER UPDATE OF host_agency_id ON councils
    FOR EACH ROW WHEN (OLD.host_agency_id IS DISTINCT FROM NEW.host_agency_id)
    EXECUTE FUNCTION rederive_meeting_hosts();

CREATE FUNCTION rederive_visit_operators() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM engagement_parties p
     USING monitoring_visits v
     WHERE p.engagement_id = v.id AND v.facility_id = NEW.id
       AND p.role = 'operator' AND p.agency_id IS NOT NULL;
    INSERT INTO engagement_parties (engagement_id, agency_id, role)
    SELECT v.id, NEW.operating_agency_id, 'operator'
      FROM monitoring_visits v
     WHERE v.facility_id = NEW.id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER facilities_operating_agency_parties
    AFTER UPDATE OF operating_agency_id ON facilities
    FOR EACH ROW WHEN (OLD.operating_agency_id IS DISTINCT FROM NEW.operating_agency_id)
    EXECUTE FUNCTION rederive_visit_operators();

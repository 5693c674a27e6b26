DROP TRIGGER meetings_minutes_recorded ON meetings;
DROP FUNCTION meetings_minutes_recorded();
ALTER TABLE meetings DROP COLUMN minutes_recorded_on;

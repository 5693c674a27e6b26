DROP FUNCTION search_estimated_matches(tsquery);

DROP TABLE recommendation_status_history, recommendations, meeting_attendance, meetings, engagement_parties,
    engagements, council_members;
DROP INDEX IF EXISTS councils_name_idx, councils_created_at_idx, councils_kind_idx, councils_region_idx, councils_q_idx;

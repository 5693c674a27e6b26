-- Finer statistics for the search documents. A search picks its plan for the tail by Postgres' estimate of how
-- many rows match (`search_estimated_matches`, `src/search/model.rs`: above 10,000, read the tail window by
-- window). For a word outside the most-common-elements list, that estimate is derived from the least frequent
-- element in the list; with the default statistics target (100) the list holds ~100 words and a word found in
-- one row of 1.6 million was estimated at 16,718 matches, so a rare word took the common word's path (70 ms p50
-- instead of ~20). With 1,000 the list is ten times longer and the same word is estimated at 283; a common word's
-- estimate is unchanged (95,175 for 95,000 matches). ANALYZE of the table reads 300,000 rows instead of 30,000.
ALTER TABLE search_entries
    ALTER COLUMN document SET STATISTICS 1000,
    ALTER COLUMN title_doc SET STATISTICS 1000;
ANALYZE search_entries;

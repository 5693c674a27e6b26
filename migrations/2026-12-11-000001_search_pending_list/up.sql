-- New rows go to a GIN index's pending list, which every search reads in full until it is merged (by autovacuum,
-- or when it passes gin_pending_list_limit, 4 MB by default). After 100,000 inserted rows every search paid
-- ~7 ms per statement for it (docs/benchmarks.md, "Search"); a 256 kB list is merged often and read in well
-- under a millisecond, and bulk inserts still batch their index updates.
ALTER INDEX search_entries_document_idx SET (gin_pending_list_limit = 256);
ALTER INDEX search_entries_title_idx SET (gin_pending_list_limit = 256);

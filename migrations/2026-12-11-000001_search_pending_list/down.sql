ALTER INDEX search_entries_document_idx RESET (gin_pending_list_limit);
ALTER INDEX search_entries_title_idx RESET (gin_pending_list_limit);

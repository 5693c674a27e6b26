-- A kind's status takes only that kind's values (`EngagementStatus` in src/engagements/model.rs, whose tests keep
-- these lists equal to the Rust enums). The API writes statuses typed; this makes a bad pair written any other
-- way (by hand, by a script) impossible, instead of a 500 whenever the record is read.
ALTER TABLE engagements ADD CONSTRAINT engagements_status_of_kind CHECK (
    CASE kind
        WHEN 'meeting' THEN status IN ('planned', 'held', 'cancelled', 'postponed')
        WHEN 'hearing' THEN status IN ('planned', 'held', 'cancelled')
        WHEN 'consultation' THEN status IN ('planned', 'open', 'closed', 'adopted', 'rejected', 'withdrawn')
        WHEN 'monitoring_visit' THEN status IN ('planned', 'completed', 'cancelled')
        WHEN 'grant' THEN status IN ('announced', 'applied', 'awarded', 'active', 'completed', 'terminated', 'rejected')
        ELSE false
    END
);

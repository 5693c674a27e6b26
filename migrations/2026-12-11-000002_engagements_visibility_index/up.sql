-- `(visibility, starts_on, id)` misled the planner: visibility's column correlation (0.6 with 95 % of rows public or
-- internal) made a walk of this index look sequential, so a list of one kind walked it filtering out four rows in
-- five instead of walking the kind's own index (85 ms against 18 ms for a 2,000-row batch of hearings at a million
-- engagements). Without it, anonymous pages walk `engagements_starts_idx` as fast (most rows are public), and
-- each filter keeps its own index. See docs/benchmarks.md, "Open data".
DROP INDEX engagements_visibility_idx;

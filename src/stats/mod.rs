//! Statistics: the analyst's questions answered by one request each, counted under the read rule over exactly
//! the rows the matching list returns.

pub mod collections;
pub mod engine;
pub mod handlers;
pub mod overlaps;
pub mod scorecards;
pub mod tallies;

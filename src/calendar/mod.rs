//! The public calendar: upcoming council meetings, public hearings and the last days of draft acts' comment
//! periods as one RFC 5545 iCalendar feed that calendar programs subscribe to. Never monitoring visits.

pub mod handlers;
pub mod model;

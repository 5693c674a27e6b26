//! `GET /calendar.ics`: the events as an RFC 5545 calendar.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use chrono::{Days, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus, Property};

use super::model::{self, CalendarFilter, Event};
use crate::domain::{ConsultationStatus, HearingStatus, MeetingStatus};
use crate::engagements::EngagementKind;
use crate::engagements::model::EngagementStatus;
use crate::http::{ApiError, ApiResult, ProblemResponses, Query};
use crate::meetings::model::local_date;
use crate::regions;
use crate::state::AppState;

/// The time zone of every time in the calendar: Tajikistan keeps UTC+5 all year, without daylight saving.
pub const TIME_ZONE: &str = "Asia/Dushanbe";

/// Its definition, which RFC 5545 wants in the calendar beside every `TZID` that refers to it.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Asia/Dushanbe\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
TZOFFSETFROM:+0500\r\nTZOFFSETTO:+0500\r\nTZNAME:+05\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// How often a subscribed calendar program should fetch the feed again.
const REFRESH: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The calendar of meetings, hearings and comment-period deadlines, to subscribe to (RFC 5545).
///
/// Upcoming council meetings, public hearings and the last days of comment periods the caller may read, as an
/// iCalendar feed. Each event keeps its UID; its `SEQUENCE` grows with every change;
/// a cancelled meeting or hearing, or a withdrawn draft, stays in the feed as `STATUS:CANCELLED`. Monitoring
/// visits are never listed. Times are in Asia/Dushanbe; at most 2,000 events, soonest first.
#[utoipa::path(tag = "calendar", params(CalendarFilter),
    responses((status = 200, description = "An RFC 5545 calendar", content((String = "text/calendar"))),
        ProblemResponses))]
#[get("/calendar.ics")]
pub async fn calendar(
    state: Data<AppState>,
    caller: crate::auth::Caller,
    filter: Query<CalendarFilter>,
) -> ApiResult<HttpResponse> {
    let window = filter.window(local_date(Utc::now()))?;
    let mut conn = state.db().await?;
    let regions = match &filter.region_code {
        Some(code) => Some(regions::subtree(&mut conn, code, "region_code").await?),
        None => None,
    };
    let events = model::events(&mut conn, &caller, &filter, regions, window).await?;
    drop(conn);
    let rendered = render_off_loop(events).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Content-Disposition", "inline; filename=\"hamkori.ics\""))
        .body(rendered))
}

/// The calendar of `events` as RFC 5545 text. The crate writes the calendar (escaping, folding, CRLF); our fixed
/// `VTIMEZONE` goes in as text after the calendar's own properties, because the crate would add a UID and DTSTAMP
/// to any other component, which RFC 5545 does not allow in a time zone.
pub fn render(events: &[Event]) -> String {
    framed(&[vevents(events)])
}

/// The calendar's own properties, its time zone and `parts` (each a run of `VEVENT`s, in order).
fn framed(parts: &[String]) -> String {
    let mut feed = Calendar::empty();
    feed.append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//Hamkori//Calendar//RU"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"))
        .append_property(Property::new("X-WR-CALNAME", "Hamkori"))
        .append_property(Property::new("X-WR-TIMEZONE", TIME_ZONE))
        .ttl(&REFRESH);
    let head = feed.done().to_string();
    let (head, end) = head.split_at(head.rfind(END).unwrap_or(head.len()));
    let mut text = String::with_capacity(
        head.len() + VTIMEZONE.len() + parts.iter().map(String::len).sum::<usize>() + end.len(),
    );
    text.push_str(head);
    text.push_str(VTIMEZONE);
    for part in parts {
        text.push_str(part);
    }
    text.push_str(end);
    text
}

/// `events` as `VEVENT` components, each written by the crate.
fn vevents(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(&vevent(event).to_string());
    }
    text
}

/// Events rendered per blocking task: a full feed (2,000 events, ~10 µs each) is written by two tasks at once, off
/// the worker's event loop, which other requests share.
const RENDERED_TOGETHER: usize = 1_000;

/// [`render`] split over blocking tasks.
async fn render_off_loop(mut events: Vec<Event>) -> ApiResult<String> {
    let mut tasks = Vec::new();
    while !events.is_empty() {
        let rest = events.split_off(events.len().min(RENDERED_TOGETHER));
        let chunk = std::mem::replace(&mut events, rest);
        tasks.push(actix_web::web::block(move || vevents(&chunk)));
    }
    let mut parts = Vec::with_capacity(tasks.len());
    for task in tasks {
        parts.push(
            task.await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("rendering the calendar: {e}")))?,
        );
    }
    Ok(framed(&parts))
}

/// How a calendar ends.
const END: &str = "END:VCALENDAR\r\n";

/// One event: its UID and `SEQUENCE` from the engagement's id and version, its time, place and status.
fn vevent(event: &Event) -> icalendar::Event {
    let mut vevent = icalendar::Event::new();
    let (uid, summary) = match event.kind {
        EngagementKind::Consultation => (
            format!("consultation-{}-closes@hamkori", event.id),
            format!("Последний день приёма предложений: {}", event.title),
        ),
        kind => (format!("{kind}-{}@hamkori", event.id), event.title.clone()),
    };
    vevent
        .uid(&uid)
        .sequence(u32::try_from(event.version.saturating_sub(1)).unwrap_or(0))
        .timestamp(event.updated_at)
        .last_modified(event.updated_at)
        .summary(&summary)
        .status(status(event.status));
    match (event.kind, event.starts_at) {
        (EngagementKind::Meeting, Some(at)) => {
            let local = at
                .with_timezone(&crate::meetings::model::tajikistan())
                .naive_local();
            vevent.starts(CalendarDateTime::WithTimezone {
                date_time: local,
                tzid: TIME_ZONE.to_owned(),
            });
        }
        _ => {
            // All-day: DTEND is the day after the last (RFC 5545 ends are exclusive).
            let first = event.day;
            let last = match event.kind {
                EngagementKind::Hearing => event.ends_on.unwrap_or(first).max(first),
                _ => first,
            };
            vevent.starts(first).ends(last + Days::new(1));
        }
    }
    if let Some(location) = &event.location {
        vevent.location(location);
    }
    let mut description = event.summary.clone().unwrap_or_default();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&format!("/api/v1/{}/{}", event.kind.collection(), event.id));
    vevent.description(&description);
    vevent.done()
}

/// `CANCELLED` for a cancelled meeting or hearing and a withdrawn draft, `TENTATIVE` for a postponed meeting,
/// `CONFIRMED` otherwise.
fn status(status: EngagementStatus) -> EventStatus {
    match status {
        EngagementStatus::Meeting(MeetingStatus::Cancelled)
        | EngagementStatus::Hearing(HearingStatus::Cancelled)
        | EngagementStatus::Consultation(ConsultationStatus::Withdrawn) => EventStatus::Cancelled,
        EngagementStatus::Meeting(MeetingStatus::Postponed) => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_calendar_still_defines_its_time_zone_and_parses() {
        let text = render(&[]);
        assert!(
            text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with(END),
            "{text}"
        );
        assert!(text.contains(VTIMEZONE), "{text}");
        assert!(text.parse::<Calendar>().is_ok(), "{text}");
    }
}

//! The recommendation lifecycle (DESIGN.md §2): forward only, skipping allowed; closed stays closed unless an
//! admin reopens it to `in_progress` with a note; `no_response` only after `due_on`, and a later answer moves on.

use chrono::NaiveDate;

use crate::http::{ApiError, FieldError};

crate::text_enum! {
    /// Where a recommendation stands.
    pub enum RecommendationStatus {
        /// Sent to the agency.
        Issued => "issued",
        /// The agency confirmed receipt.
        Acknowledged => "acknowledged",
        /// The agency is working on it.
        InProgress => "in_progress",
        /// Done.
        Implemented => "implemented",
        /// Partly done.
        PartiallyImplemented => "partially_implemented",
        /// Refused (with the reason in the note).
        Rejected => "rejected",
        /// Nothing came back by the due date.
        NoResponse => "no_response",
    }
}

impl RecommendationStatus {
    /// Whether the recommendation has reached an end.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Self::Implemented | Self::PartiallyImplemented | Self::Rejected
        )
    }

    fn rank(self) -> u8 {
        match self {
            Self::Issued | Self::NoResponse => 0,
            Self::Acknowledged => 1,
            Self::InProgress => 2,
            Self::Implemented | Self::PartiallyImplemented | Self::Rejected => 3,
        }
    }
}

/// A requested change of status, with what the rules depend on.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// The current status.
    pub from: RecommendationStatus,
    /// The requested status.
    pub to: RecommendationStatus,
    /// The note given with it.
    pub note: Option<&'a str>,
    /// The recommendation's due date.
    pub due_on: Option<NaiveDate>,
    /// Today.
    pub today: NaiveDate,
    /// Whether an admin asks.
    pub by_admin: bool,
}

impl Transition<'_> {
    /// Accepts a transition that makes sense, or says why not (422 on `status` or `note`).
    pub fn check(&self) -> Result<(), ApiError> {
        use RecommendationStatus::*;
        let refuse = |message: String| {
            Err(ApiError::Validation(vec![FieldError::new(
                "status", message,
            )]))
        };
        let has_note = self.note.is_some_and(|n| !n.trim().is_empty());
        if self.to == self.from {
            return refuse(format!("is already `{}`", self.from));
        }
        if self.to == Issued {
            return refuse("cannot go back to `issued`".to_owned());
        }
        if self.from.is_closed() {
            if self.by_admin && self.to == InProgress {
                if !has_note {
                    return Err(ApiError::field(
                        "note",
                        "is required to reopen a closed recommendation",
                    ));
                }
                return Ok(());
            }
            return refuse(format!(
                "`{}` is closed; only an admin may reopen it, to `in_progress`",
                self.from
            ));
        }
        if self.to == NoResponse {
            if self.from != Issued {
                return refuse(format!(
                    "`no_response` cannot follow `{}`: an answer came",
                    self.from
                ));
            }
            if self.due_on.is_none_or(|due| due >= self.today) {
                return refuse(
                    "`no_response` can be recorded only once `due_on` has passed".to_owned(),
                );
            }
            return Ok(());
        }
        if self.to.rank() <= self.from.rank() && self.from != NoResponse {
            return refuse(format!(
                "cannot move back from `{}` to `{}`",
                self.from, self.to
            ));
        }
        if self.to == Rejected && !has_note {
            return Err(ApiError::field(
                "note",
                "must give the reason for the rejection",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RecommendationStatus::{self, *};
    use super::Transition;

    fn check(
        from: RecommendationStatus,
        to: RecommendationStatus,
        note: Option<&str>,
        admin: bool,
        overdue: bool,
    ) -> bool {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
        let due_on = Some(if overdue {
            today.pred_opt().unwrap_or(today)
        } else {
            today
        });
        Transition {
            from,
            to,
            note,
            due_on,
            today,
            by_admin: admin,
        }
        .check()
        .is_ok()
    }

    #[test]
    fn forward_moves_may_skip_steps() {
        assert!(check(Issued, Acknowledged, None, false, false));
        assert!(check(Issued, Implemented, None, false, false));
        assert!(check(
            Acknowledged,
            PartiallyImplemented,
            None,
            false,
            false
        ));
        assert!(check(InProgress, Rejected, Some("no budget"), false, false));
    }

    #[test]
    fn backward_same_and_reissue_are_refused() {
        assert!(!check(InProgress, Acknowledged, None, false, false));
        assert!(!check(Acknowledged, Acknowledged, None, false, false));
        assert!(!check(Acknowledged, Issued, None, true, false));
        assert!(!check(Implemented, Rejected, Some("x"), false, false));
    }

    #[test]
    fn rejection_needs_a_reason() {
        assert!(!check(Issued, Rejected, None, false, false));
        assert!(!check(Issued, Rejected, Some("  "), false, false));
    }

    #[test]
    fn only_an_admin_reopens_and_only_to_in_progress_with_a_note() {
        assert!(check(
            Implemented,
            InProgress,
            Some("not really done"),
            true,
            false
        ));
        assert!(!check(Implemented, InProgress, None, true, false));
        assert!(!check(Implemented, InProgress, Some("x"), false, false));
        assert!(!check(Rejected, Acknowledged, Some("x"), true, false));
    }

    #[test]
    fn no_response_after_the_due_date_and_a_later_answer_moves_on() {
        assert!(check(Issued, NoResponse, None, false, true));
        assert!(!check(Issued, NoResponse, None, false, false));
        assert!(!check(Acknowledged, NoResponse, None, false, true));
        assert!(check(NoResponse, Acknowledged, None, false, true));
        assert!(check(NoResponse, Implemented, None, false, true));
    }
}

//! The shared vocabulary of the domain: user roles, kinds of engagement, visibility and party roles.
//!
//! It sits below every other module so that the access policy (`auth::policy`), the read rule and the
//! kinds can all speak of the same things without importing one another.

crate::text_enum! {
    /// What a user may do (DESIGN.md §1, §5).
    pub enum Role {
        /// Manages users and reference data, may change anything.
        Admin => "admin",
        /// Reads every non-restricted record.
        Analyst => "analyst",
        /// Staff of one organisation.
        NgoMember => "ngo_member",
        /// Officer of one agency; answers what is addressed to it.
        AgencyOfficer => "agency_officer",
        /// Secretary of one or more councils.
        Secretary => "secretary",
    }
}

crate::text_enum! {
    /// The kinds of engagement.
    pub enum EngagementKind {
        /// A meeting of a council.
        Meeting => "meeting",
        /// A public hearing organised by civil society.
        Hearing => "hearing",
        /// A public consultation on a draft act.
        Consultation => "consultation",
        /// A monitoring visit to a facility.
        MonitoringVisit => "monitoring_visit",
        /// Support to an NGO.
        Grant => "grant",
    }
}

impl EngagementKind {
    /// The API collection a kind's records live under (`/api/v1/{collection}/{id}`).
    pub fn collection(self) -> &'static str {
        match self {
            Self::Meeting => "meetings",
            Self::Hearing => "hearings",
            Self::Consultation => "consultations",
            Self::MonitoringVisit => "monitoring-visits",
            Self::Grant => "grants",
        }
    }
}

crate::text_enum! {
    /// Who may read a record (DESIGN.md §5).
    #[derive(Default)]
    pub enum Visibility {
        /// Everyone, including anonymous readers.
        Public => "public",
        /// Every signed-in user.
        #[default]
        Internal => "internal",
        /// Only the owning organisation, the council's secretaries, and admins.
        Restricted => "restricted",
    }
}

crate::text_enum! {
    /// The part an organisation or agency plays in an engagement.
    pub enum PartyRole {
        /// Organised it.
        Organizer => "organizer",
        /// Took part.
        Participant => "participant",
        /// Was invited.
        Invited => "invited",
        /// Hosted it.
        Host => "host",
        /// Is responsible for it (e.g. the agency behind a draft act).
        Responsible => "responsible",
        /// Submitted a proposal.
        Submitter => "submitter",
        /// Monitored.
        Monitor => "monitor",
        /// Operates the monitored facility.
        Operator => "operator",
        /// Funded.
        Funder => "funder",
        /// Received support.
        Recipient => "recipient",
    }
}

// Each kind's statuses live here too: the engagement core reads them together with the kind.

crate::text_enum! {
    /// Where a consultation stands.
    #[derive(Default)]
    pub enum ConsultationStatus {
        /// Announced, not yet open.
        Planned => "planned",
        /// Open for comments.
        #[default]
        Open => "open",
        /// The comment period has ended.
        Closed => "closed",
        /// The act was adopted.
        Adopted => "adopted",
        /// The act was rejected.
        Rejected => "rejected",
        /// The draft was withdrawn.
        Withdrawn => "withdrawn",
    }
}

crate::text_enum! {
    /// Where a grant stands.
    #[derive(Default)]
    pub enum GrantStatus {
        /// Announced (a call).
        Announced => "announced",
        /// Applied for.
        Applied => "applied",
        /// Awarded.
        #[default]
        Awarded => "awarded",
        /// Running.
        Active => "active",
        /// Finished.
        Completed => "completed",
        /// Ended early.
        Terminated => "terminated",
        /// Not awarded.
        Rejected => "rejected",
    }
}

crate::text_enum! {
    /// Where a hearing stands.
    #[derive(Default)]
    pub enum HearingStatus {
        /// Announced.
        #[default]
        Planned => "planned",
        /// Took place.
        Held => "held",
        /// Called off.
        Cancelled => "cancelled",
    }
}

crate::text_enum! {
    /// Where a meeting stands.
    #[derive(Default)]
    pub enum MeetingStatus {
        /// Scheduled.
        #[default]
        Planned => "planned",
        /// Took place.
        Held => "held",
        /// Called off.
        Cancelled => "cancelled",
        /// Moved to a later date.
        Postponed => "postponed",
    }
}

crate::text_enum! {
    /// Where a visit stands.
    #[derive(Default)]
    pub enum VisitStatus {
        /// Scheduled (seen only by its monitors and admins).
        #[default]
        Planned => "planned",
        /// Done.
        Completed => "completed",
        /// Called off.
        Cancelled => "cancelled",
    }
}

crate::text_enum! {
    /// Whose word an answer is (a recommendation's status, a submission's response): the provenance that lets an
    /// analyst count only what an agency said itself.
    pub enum AnswerSource {
        /// The addressed (or responsible) agency recorded it itself.
        Agency => "agency",
        /// An NGO reported it (the answer it received, or what it observed).
        Ngo => "ngo",
        /// A council secretary recorded it.
        Secretary => "secretary",
        /// An admin recorded or corrected it.
        Admin => "admin",
    }
}

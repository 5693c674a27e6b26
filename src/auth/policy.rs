//! The access policy of DESIGN.md §5, in one place: who may change what.
//!
//! Everything here is a pure function of the actor, the action and what the record says about the actor's
//! relation to it (its owner, the organisations named on it and their roles, its council, the agency it is
//! addressed to). Handlers gather those facts and ask [`check`]; the SQL read rule takes its party-role list and
//! the planned-visit rule from the constants below, so reading and writing cannot drift apart.

use uuid::Uuid;

use super::Actor;
use crate::domain::{AnswerSource, EngagementKind, PartyRole, Role};
use crate::http::ApiError;

/// Party roles that let an organisation's members read a restricted engagement.
pub const RESTRICTED_READER_ROLES: &[PartyRole] = &[
    PartyRole::Organizer,
    PartyRole::Submitter,
    PartyRole::Monitor,
    PartyRole::Recipient,
];

/// Party roles an organisation may withdraw itself from, where the record was made by another (DESIGN.md §2):
/// being named co-organiser, co-monitor or co-submitter needs no one's consent, so it grants reading only, and the
/// one named may leave.
pub const WITHDRAWABLE_ROLES: &[PartyRole] = &[
    PartyRole::Organizer,
    PartyRole::Monitor,
    PartyRole::Submitter,
];

/// An engagement that is hidden from everyone but the organisations named on it in one role (and admins):
/// a planned monitoring visit, because announcing it would defeat it.
pub struct HiddenWhile {
    /// The kind it applies to.
    pub kind: EngagementKind,
    /// The status during which it is hidden.
    pub status: &'static str,
    /// The party role whose organisations still see it.
    pub seen_by: PartyRole,
}

/// The planned-visit rule, for the SQL read rule and for Rust alike.
pub const PLANNED_VISIT: HiddenWhile = HiddenWhile {
    kind: EngagementKind::MonitoringVisit,
    status: "planned",
    seen_by: PartyRole::Monitor,
};

/// What a request does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Records a new one.
    Create,
    /// Changes it.
    Update,
    /// Deletes it.
    Delete,
    /// Records an answer to it (a submission's response, a recommendation's status).
    Answer,
    /// Reads its change history.
    ReadHistory,
}

/// What the rules need to know of an engagement: its kind, owner, council and the organisations named on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementFacts {
    /// Its kind.
    pub kind: EngagementKind,
    /// The organisation that owns the record.
    pub owner: Option<Uuid>,
    /// The council it belongs to (a meeting's council, a visit's mandate).
    pub council_id: Option<Uuid>,
    /// Organisations named on it, with their roles.
    pub organizations: Vec<(Uuid, PartyRole)>,
}

impl EngagementFacts {
    fn names(&self, org: Uuid, roles: &[PartyRole]) -> bool {
        self.organizations
            .iter()
            .any(|(o, role)| *o == org && roles.contains(role))
    }
}

/// The record a request acts on, with the facts that decide access to it.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// An engagement of any kind (for `Create`: as the request would make it).
    Engagement(&'a EngagementFacts),
    /// A submission to a consultation.
    Submission {
        /// The submitting organisations.
        organizations: &'a [Uuid],
        /// The organisation that made it (for `Create`: none yet; the body's organisations decide).
        owner: Option<Uuid>,
        /// The agency that answers it (looked up only when it decides: for `Answer`).
        responsible_agency: Option<Uuid>,
    },
    /// A recommendation that comes out of an engagement.
    Recommendation {
        /// Its engagement.
        engagement: &'a EngagementFacts,
        /// The agency it is addressed to.
        addressed_to: Uuid,
    },
    /// An organisation named on an engagement (`Delete`: it withdraws from it).
    NamedParty {
        /// The engagement.
        engagement: &'a EngagementFacts,
        /// The organisation named.
        organization: Uuid,
    },
    /// An organisation of the directory.
    Organization(Uuid),
    /// A council of the directory, or its members.
    Council(Uuid),
    /// An agency, facility, region or user: the admins' part of the directory.
    AdminOnly,
}

/// Which named roles let an NGO member record a new engagement of a kind for their organisation; `None` when
/// any member may (a consultation their organisation follows), an empty list when none may.
fn creator_roles(kind: EngagementKind) -> Option<&'static [PartyRole]> {
    match kind {
        EngagementKind::Hearing => Some(&[PartyRole::Organizer]),
        EngagementKind::MonitoringVisit => Some(&[PartyRole::Monitor]),
        EngagementKind::Grant => Some(&[PartyRole::Recipient, PartyRole::Funder]),
        EngagementKind::Consultation => None,
        EngagementKind::Meeting => Some(&[]),
    }
}

fn changes_engagement(actor: &Actor, e: &EngagementFacts) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Secretary => {
            e.kind == EngagementKind::Meeting
                && e.council_id.is_some_and(|c| actor.council_ids.contains(&c))
        }
        // Only the owning organisation: being named by someone else grants reading, not writing.
        Role::NgoMember => actor
            .organization_id
            .is_some_and(|org| e.owner == Some(org)),
        Role::Analyst | Role::AgencyOfficer => false,
    }
}

fn withdraws(actor: &Actor, e: &EngagementFacts, organization: Uuid) -> bool {
    actor.role == Role::NgoMember
        && actor.organization_id == Some(organization)
        && e.owner != Some(organization)
        && e.names(organization, WITHDRAWABLE_ROLES)
}

fn creates_engagement(actor: &Actor, e: &EngagementFacts) -> bool {
    match actor.role {
        Role::Admin => true,
        Role::Secretary => e.kind == EngagementKind::Meeting && changes_engagement(actor, e),
        Role::NgoMember => actor
            .organization_id
            .is_some_and(|org| creator_roles(e.kind).is_none_or(|roles| e.names(org, roles))),
        Role::Analyst | Role::AgencyOfficer => false,
    }
}

fn speaks_for(actor: &Actor, organizations: &[Uuid]) -> bool {
    actor.role == Role::NgoMember
        && actor
            .organization_id
            .is_some_and(|org| organizations.contains(&org))
}

fn speaks_for_owner(actor: &Actor, owner: Option<Uuid>) -> bool {
    actor.role == Role::NgoMember && owner.is_some() && actor.organization_id == owner
}

/// Whether the actor may do the action on the record (DESIGN.md §5).
pub fn allows(actor: &Actor, action: Action, record: Record<'_>) -> bool {
    use Action::*;
    if actor.role == Role::Admin {
        return true;
    }
    let audit_reader = actor.role == Role::Analyst;
    match (record, action) {
        (Record::Engagement(e), Create) => creates_engagement(actor, e),
        (Record::Engagement(e), Update | Delete) => changes_engagement(actor, e),
        (Record::Engagement(e), ReadHistory) => audit_reader || changes_engagement(actor, e),
        (Record::Engagement(_), Answer) => false,
        (Record::Submission { organizations, .. }, Create) => speaks_for(actor, organizations),
        // Co-submitters it names read it and may withdraw; the organisation that made it changes it.
        (Record::Submission { owner, .. }, Update | Delete) => speaks_for_owner(actor, owner),
        (
            Record::Submission {
                owner,
                responsible_agency,
                ..
            },
            Answer,
        ) => {
            speaks_for_owner(actor, owner)
                || (actor.role == Role::AgencyOfficer
                    && responsible_agency.is_some()
                    && actor.agency_id == responsible_agency)
        }
        (Record::Submission { owner, .. }, ReadHistory) => {
            audit_reader || speaks_for_owner(actor, owner)
        }
        (Record::Recommendation { engagement, .. }, Create | Update | Delete) => {
            changes_engagement(actor, engagement)
        }
        (
            Record::Recommendation {
                engagement,
                addressed_to,
            },
            Answer,
        ) => match actor.role {
            Role::AgencyOfficer => actor.agency_id == Some(addressed_to),
            Role::NgoMember => changes_engagement(actor, engagement),
            _ => false,
        },
        (Record::Recommendation { engagement, .. }, ReadHistory) => {
            audit_reader || changes_engagement(actor, engagement)
        }
        (
            Record::NamedParty {
                engagement,
                organization,
            },
            Delete,
        ) => withdraws(actor, engagement, organization),
        (Record::NamedParty { .. }, _) => false,
        (Record::Organization(id), Update) => {
            actor.role == Role::NgoMember && actor.organization_id == Some(id)
        }
        (Record::Organization(id), ReadHistory) => {
            audit_reader || allows(actor, Update, Record::Organization(id))
        }
        (Record::Council(id), Update) => {
            actor.role == Role::Secretary && actor.council_ids.contains(&id)
        }
        (Record::Council(id), ReadHistory) => {
            audit_reader || allows(actor, Update, Record::Council(id))
        }
        (Record::AdminOnly, ReadHistory) => audit_reader,
        (Record::Organization(_) | Record::Council(_) | Record::AdminOnly, _) => false,
    }
}

/// [`allows`], as a 403 that says who may.
pub fn check(actor: &Actor, action: Action, record: Record<'_>) -> Result<(), ApiError> {
    if allows(actor, action, record) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(refusal(action, record)))
    }
}

/// Who may do what was refused, in words.
fn refusal(action: Action, record: Record<'_>) -> &'static str {
    use Action::*;
    match (record, action) {
        (_, ReadHistory) => "Only admins, analysts and the record's editors may read its history.",
        (Record::Engagement(e), Create) => match e.kind {
            EngagementKind::Meeting => {
                "Only admins and the council's secretaries may record its meetings."
            }
            EngagementKind::Hearing => {
                "Only admins and NGO members for hearings their organisation organised may log them."
            }
            EngagementKind::Consultation => "Only NGO members and admins log consultations.",
            EngagementKind::MonitoringVisit => {
                "Only admins and NGO members for visits their organisation monitors may record them."
            }
            EngagementKind::Grant => {
                "Only admins and NGO members for grants their organisation received or gave may record them."
            }
        },
        (Record::Engagement(e), _) => match e.kind {
            EngagementKind::Meeting => {
                "Only admins and the council's secretaries may change its meetings."
            }
            _ => {
                "Only admins and the organisation that owns it may change it; being named on it grants reading."
            }
        },
        (Record::NamedParty { .. }, _) => {
            "Only a member of an organisation named on the record by another may withdraw it (the owner deletes \
             the record instead)."
        }
        (Record::Submission { .. }, Answer) => {
            "Only the responsible agency, the submitting organisations and admins may record the answer."
        }
        (Record::Submission { .. }, _) => {
            "Only the organisation that made a submission and admins may change it; co-submitters may withdraw."
        }
        (Record::Recommendation { .. }, Answer) => {
            "Only the agency addressed, the organisation that issued it and admins may record an answer."
        }
        (Record::Recommendation { .. }, _) => {
            "Only admins and the engagement's editors may issue or change its recommendations."
        }
        (Record::Organization(_), _) => {
            "Only admins and the organisation's own members may change it."
        }
        (Record::Council(_), _) => "Only admins and the council's secretaries may change it.",
        (Record::AdminOnly, _) => "Only an admin may do this.",
    }
}

/// The owner of a new engagement: an NGO member records it for their organisation; others leave the kind's
/// default (e.g. the first organiser).
pub fn owner_of_new(actor: &Actor, default: Option<Uuid>) -> Option<Uuid> {
    match actor.role {
        Role::NgoMember => actor.organization_id,
        _ => default,
    }
}

/// Who records an answer, as the record keeps it: the user, their role and binding at that moment, and whose
/// word the answer therefore is. An actor asserts only their own side: an NGO's report of an agency's answer is
/// `ngo`, never `agency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorder {
    /// The user.
    pub user: Uuid,
    /// Their role.
    pub role: Role,
    /// Their organisation (NGO members).
    pub organization_id: Option<Uuid>,
    /// Their agency (agency officers).
    pub agency_id: Option<Uuid>,
    /// Whose word it is.
    pub source: AnswerSource,
}

impl Recorder {
    /// The actor recording an answer to something addressed to `agency`: only that agency's own officer speaks
    /// as `agency` (the policy lets no other officer answer; should one ever, it would not count as the agency's).
    pub fn of(actor: &Actor, agency: Option<Uuid>) -> Self {
        let source = match actor.role {
            Role::AgencyOfficer if agency.is_some() && actor.agency_id == agency => {
                AnswerSource::Agency
            }
            Role::Secretary => AnswerSource::Secretary,
            Role::Admin => AnswerSource::Admin,
            Role::NgoMember | Role::AgencyOfficer | Role::Analyst => AnswerSource::Ngo,
        };
        Self {
            user: actor.id,
            role: actor.role,
            organization_id: actor.organization_id,
            agency_id: actor.agency_id,
            source,
        }
    }
}

impl Actor {
    /// Whether the actor is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Refuses anyone but an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        check(self, Action::Update, Record::AdminOnly)
    }

    /// Admins, and members of the organisation itself, may edit an organisation.
    pub fn may_edit_organization(&self, organization_id: Uuid) -> bool {
        allows(self, Action::Update, Record::Organization(organization_id))
    }

    /// Admins, and secretaries of the council, may edit a council and its members.
    pub fn may_edit_council(&self, council_id: Uuid) -> bool {
        allows(self, Action::Update, Record::Council(council_id))
    }

    /// Admins and analysts read the whole audit log.
    pub fn may_read_audit(&self) -> bool {
        allows(self, Action::ReadHistory, Record::AdminOnly)
    }

    /// The same actor as the caller of a read.
    pub fn caller(&self) -> super::Caller {
        super::Caller {
            actor: Some(self.clone()),
        }
    }

    /// The actor of changes made by the server itself (start-up, the CLI, demo data): the nil user id.
    pub fn system() -> Self {
        Self {
            id: Uuid::nil(),
            role: Role::Admin,
            organization_id: None,
            agency_id: None,
            council_ids: Vec::new(),
            request_id: "system".to_owned(),
            client_request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    //! DESIGN.md §5 as a table: each row is (who, what, on which record, allowed?).

    use super::*;

    const ORG: Uuid = Uuid::from_u128(1);
    const OTHER_ORG: Uuid = Uuid::from_u128(2);
    const AGENCY: Uuid = Uuid::from_u128(3);
    const OTHER_AGENCY: Uuid = Uuid::from_u128(4);
    const COUNCIL: Uuid = Uuid::from_u128(5);
    const OTHER_COUNCIL: Uuid = Uuid::from_u128(6);

    fn actor(role: Role) -> Actor {
        Actor {
            id: Uuid::from_u128(99),
            role,
            organization_id: (role == Role::NgoMember).then_some(ORG),
            agency_id: (role == Role::AgencyOfficer).then_some(AGENCY),
            council_ids: if role == Role::Secretary {
                vec![COUNCIL]
            } else {
                Vec::new()
            },
            request_id: String::new(),
            client_request_id: None,
        }
    }

    fn engagement(
        kind: EngagementKind,
        owner: Option<Uuid>,
        council: Option<Uuid>,
        named: &[(Uuid, PartyRole)],
    ) -> EngagementFacts {
        EngagementFacts {
            kind,
            owner,
            council_id: council,
            organizations: named.to_vec(),
        }
    }

    use Action::*;
    use EngagementKind as K;
    use PartyRole as P;
    use Role::*;

    const ALL: [Role; 5] = [Admin, Analyst, NgoMember, AgencyOfficer, Secretary];

    /// Asserts that exactly the listed roles may do the action.
    fn only(allowed: &[Role], action: Action, record: Record<'_>, case: &str) {
        for role in ALL {
            assert_eq!(
                allows(&actor(role), action, record),
                allowed.contains(&role),
                "{case}: {role} {action:?}"
            );
        }
    }

    #[test]
    fn engagements_are_changed_by_admins_and_owners_only() {
        let own = engagement(K::Hearing, Some(ORG), None, &[]);
        let other = engagement(K::Hearing, Some(OTHER_ORG), None, &[]);
        for action in [Update, Delete] {
            only(
                &[Admin, NgoMember],
                action,
                Record::Engagement(&own),
                "owned",
            );
            only(&[Admin], action, Record::Engagement(&other), "another's");
            // Being named by another, in any role, grants reading at most (consent, DESIGN.md §2).
            for role in [
                P::Organizer,
                P::Monitor,
                P::Recipient,
                P::Participant,
                P::Invited,
                P::Submitter,
                P::Funder,
            ] {
                let named = engagement(K::Hearing, Some(OTHER_ORG), None, &[(ORG, role)]);
                only(&[Admin], action, Record::Engagement(&named), "named only");
            }
        }
    }

    #[test]
    fn meetings_are_written_by_their_councils_secretaries() {
        let ours = engagement(K::Meeting, None, Some(COUNCIL), &[(ORG, P::Participant)]);
        let theirs = engagement(K::Meeting, None, Some(OTHER_COUNCIL), &[]);
        for action in [Create, Update, Delete] {
            only(
                &[Admin, Secretary],
                action,
                Record::Engagement(&ours),
                "own council",
            );
            only(
                &[Admin],
                action,
                Record::Engagement(&theirs),
                "other council",
            );
        }
        // A secretary's council on a visit's mandate gives no write access to the visit.
        let visit = engagement(K::MonitoringVisit, Some(OTHER_ORG), Some(COUNCIL), &[]);
        only(&[Admin], Update, Record::Engagement(&visit), "mandate");
    }

    #[test]
    fn ngo_members_record_engagements_that_name_their_organisation() {
        let cases = [
            (K::Hearing, P::Organizer),
            (K::MonitoringVisit, P::Monitor),
            (K::Grant, P::Recipient),
            (K::Grant, P::Funder),
        ];
        for (kind, role) in cases {
            let named = engagement(kind, None, None, &[(ORG, role)]);
            only(
                &[Admin, NgoMember],
                Create,
                Record::Engagement(&named),
                "named",
            );
            let others = engagement(kind, None, None, &[(OTHER_ORG, role)]);
            only(&[Admin], Create, Record::Engagement(&others), "not named");
        }
        let invited = engagement(K::Hearing, None, None, &[(ORG, P::Participant)]);
        only(
            &[Admin],
            Create,
            Record::Engagement(&invited),
            "participant",
        );
        let consultation = engagement(K::Consultation, None, None, &[]);
        only(
            &[Admin, NgoMember],
            Create,
            Record::Engagement(&consultation),
            "consultation",
        );
    }

    #[test]
    fn engagement_history_is_for_audit_readers_and_editors() {
        let own = engagement(K::Grant, Some(ORG), None, &[]);
        let other = engagement(K::Grant, Some(OTHER_ORG), None, &[]);
        only(
            &[Admin, Analyst, NgoMember],
            ReadHistory,
            Record::Engagement(&own),
            "own",
        );
        only(
            &[Admin, Analyst],
            ReadHistory,
            Record::Engagement(&other),
            "other",
        );
    }

    #[test]
    fn submissions_are_written_by_their_owner_and_answered_by_the_agency() {
        let ours = Record::Submission {
            organizations: &[OTHER_ORG, ORG],
            owner: Some(ORG),
            responsible_agency: Some(AGENCY),
        };
        let theirs = Record::Submission {
            organizations: &[OTHER_ORG],
            owner: Some(OTHER_ORG),
            responsible_agency: Some(OTHER_AGENCY),
        };
        // Named as co-submitter by another: reading (and withdrawing) only.
        let named = Record::Submission {
            organizations: &[OTHER_ORG, ORG],
            owner: Some(OTHER_ORG),
            responsible_agency: Some(OTHER_AGENCY),
        };
        for action in [Create, Update, Delete] {
            only(&[Admin, NgoMember], action, ours, "ours");
            only(&[Admin], action, theirs, "theirs");
        }
        for action in [Update, Delete, Answer, ReadHistory] {
            let allowed: &[Role] = if action == ReadHistory {
                &[Admin, Analyst]
            } else {
                &[Admin]
            };
            only(allowed, action, named, "named by another");
        }
        only(
            &[Admin, NgoMember, AgencyOfficer],
            Answer,
            ours,
            "answer ours",
        );
        only(&[Admin], Answer, theirs, "answer theirs");
        let unknown_agency = Record::Submission {
            organizations: &[OTHER_ORG],
            owner: Some(OTHER_ORG),
            responsible_agency: None,
        };
        only(&[Admin], Answer, unknown_agency, "no agency named");
    }

    #[test]
    fn recommendations_are_issued_by_editors_and_answered_by_the_agency_addressed() {
        let own = engagement(K::MonitoringVisit, Some(ORG), None, &[(ORG, P::Monitor)]);
        let other = engagement(K::Hearing, Some(OTHER_ORG), None, &[(ORG, P::Participant)]);
        let ours = Record::Recommendation {
            engagement: &own,
            addressed_to: AGENCY,
        };
        let theirs = Record::Recommendation {
            engagement: &other,
            addressed_to: OTHER_AGENCY,
        };
        for action in [Create, Update] {
            only(&[Admin, NgoMember], action, ours, "ours");
            only(&[Admin], action, theirs, "theirs");
        }
        only(
            &[Admin, NgoMember, AgencyOfficer],
            Answer,
            ours,
            "answer ours",
        );
        only(&[Admin], Answer, theirs, "answer theirs");
        only(&[Admin, Analyst, NgoMember], ReadHistory, ours, "history");
    }

    #[test]
    fn the_directory_is_edited_by_admins_members_and_secretaries() {
        only(
            &[Admin, NgoMember],
            Update,
            Record::Organization(ORG),
            "own org",
        );
        only(
            &[Admin],
            Update,
            Record::Organization(OTHER_ORG),
            "other org",
        );
        only(
            &[Admin, Secretary],
            Update,
            Record::Council(COUNCIL),
            "own council",
        );
        only(
            &[Admin],
            Update,
            Record::Council(OTHER_COUNCIL),
            "other council",
        );
        for action in [Create, Delete] {
            only(&[Admin], action, Record::Organization(ORG), "org");
            only(&[Admin], action, Record::Council(COUNCIL), "council");
        }
        for action in [Create, Update, Delete] {
            only(
                &[Admin],
                action,
                Record::AdminOnly,
                "agencies, facilities, regions, users",
            );
        }
        only(
            &[Admin, Analyst],
            ReadHistory,
            Record::AdminOnly,
            "audit log",
        );
    }

    #[test]
    fn an_organisation_named_by_another_may_withdraw_itself_and_nothing_else() {
        for role in WITHDRAWABLE_ROLES {
            let named = engagement(K::Hearing, Some(OTHER_ORG), None, &[(ORG, *role)]);
            let withdrawal = |organization| Record::NamedParty {
                engagement: &named,
                organization,
            };
            only(&[Admin, NgoMember], Delete, withdrawal(ORG), "itself");
            only(&[Admin], Delete, withdrawal(OTHER_ORG), "another");
            for action in [Create, Update, Answer] {
                only(&[Admin], action, withdrawal(ORG), "not a withdrawal");
            }
            // Whoever may withdraw may also read the record it leaves.
            assert!(RESTRICTED_READER_ROLES.contains(role), "{role}");
        }
        // The owner deletes the record instead; a funder or recipient cannot leave what is about it.
        let owned = engagement(K::Hearing, Some(ORG), None, &[(ORG, P::Organizer)]);
        let record = Record::NamedParty {
            engagement: &owned,
            organization: ORG,
        };
        only(&[Admin], Delete, record, "owner");
        for role in [P::Recipient, P::Funder, P::Participant] {
            let named = engagement(K::Grant, Some(OTHER_ORG), None, &[(ORG, role)]);
            let record = Record::NamedParty {
                engagement: &named,
                organization: ORG,
            };
            only(&[Admin], Delete, record, "not withdrawable");
        }
    }

    #[test]
    fn owners_of_new_records_are_the_recording_organisation() {
        assert_eq!(owner_of_new(&actor(NgoMember), Some(OTHER_ORG)), Some(ORG));
        assert_eq!(
            owner_of_new(&actor(Admin), Some(OTHER_ORG)),
            Some(OTHER_ORG)
        );
    }
}

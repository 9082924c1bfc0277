//! Blocks and reports: the core's types as protobuf messages, and the enums of a
//! `FileReport` request as the wire words the core parses (and refuses).

use devconnect_core::{AnyMessage, BlockedUser, Report, ReportKind, ReportReason, ReportStatus, Reported, Resolution};

use super::timestamp;
use crate::pb;

impl From<BlockedUser> for pb::BlockedUser {
    fn from(b: BlockedUser) -> Self {
        let BlockedUser { user, blocked_at } = b;
        Self { user: Some(user.into()), blocked_at: Some(timestamp(blocked_at)) }
    }
}

impl From<ReportKind> for pb::ReportKind {
    fn from(k: ReportKind) -> Self {
        match k {
            ReportKind::User => Self::User,
            ReportKind::Message => Self::Message,
            ReportKind::Group => Self::Group,
        }
    }
}

impl From<ReportReason> for pb::ReportReason {
    fn from(r: ReportReason) -> Self {
        match r {
            ReportReason::Spam => Self::Spam,
            ReportReason::Harassment => Self::Harassment,
            ReportReason::Impersonation => Self::Impersonation,
            ReportReason::InappropriateContent => Self::InappropriateContent,
            ReportReason::Other => Self::Other,
        }
    }
}

impl From<ReportStatus> for pb::ReportStatus {
    fn from(s: ReportStatus) -> Self {
        match s {
            ReportStatus::Open => Self::Open,
            ReportStatus::Resolved => Self::Resolved,
            ReportStatus::Dismissed => Self::Dismissed,
        }
    }
}

impl From<Resolution> for pb::Resolution {
    fn from(r: Resolution) -> Self {
        let Resolution { by, note, at } = r;
        Self { by, note, at: Some(timestamp(at)) }
    }
}

/// A snapshot is one field of the `snapshot` oneof; a message one by its kind.
impl From<Reported> for pb::report::Snapshot {
    fn from(reported: Reported) -> Self {
        match reported {
            Reported::User { user } => Self::User(user.into()),
            Reported::Message { message: AnyMessage::Direct(m) } => Self::Message(m.into()),
            Reported::Message { message: AnyMessage::Group(m) } => Self::GroupMessage(m.into()),
            Reported::Group { group } => Self::Group(group.into()),
        }
    }
}

impl From<Report> for pb::Report {
    fn from(r: Report) -> Self {
        let Report { id, reporter_id, kind, target_id, reason, details, snapshot, status, created_at, resolution } = r;
        Self {
            id: id.to_hex(),
            reporter_id: reporter_id.to_hex(),
            kind: pb::ReportKind::from(kind).into(),
            target_id,
            reason: pb::ReportReason::from(reason).into(),
            details,
            snapshot: Some(snapshot.into()),
            status: pb::ReportStatus::from(status).into(),
            created_at: Some(timestamp(created_at)),
            resolution: resolution.map(Into::into),
        }
    }
}

/// The wire word of a report kind, for the core to parse: unspecified and unknown
/// numbers are passed on as text the core refuses (`validation`, field `kind`).
pub(crate) fn report_kind_text(raw: i32) -> String {
    let kind = match pb::ReportKind::try_from(raw) {
        Ok(pb::ReportKind::User) => ReportKind::User,
        Ok(pb::ReportKind::Message) => ReportKind::Message,
        Ok(pb::ReportKind::Group) => ReportKind::Group,
        Ok(pb::ReportKind::Unspecified) => return "unspecified".to_owned(),
        Err(_) => return raw.to_string(),
    };
    kind.as_str().to_owned()
}

/// The wire word of a report reason, for the core to parse (as [`report_kind_text`]).
pub(crate) fn report_reason_text(raw: i32) -> String {
    let reason = match pb::ReportReason::try_from(raw) {
        Ok(pb::ReportReason::Spam) => ReportReason::Spam,
        Ok(pb::ReportReason::Harassment) => ReportReason::Harassment,
        Ok(pb::ReportReason::Impersonation) => ReportReason::Impersonation,
        Ok(pb::ReportReason::InappropriateContent) => ReportReason::InappropriateContent,
        Ok(pb::ReportReason::Other) => ReportReason::Other,
        Ok(pb::ReportReason::Unspecified) => return "unspecified".to_owned(),
        Err(_) => return raw.to_string(),
    };
    reason.as_str().to_owned()
}

#[cfg(test)]
mod tests {
    use devconnect_core::{Group, GroupId, GroupMessage, Message, MessageId, Profile, ReportId, UserId, Visibility};

    use super::*;

    #[test]
    fn every_report_kind_and_reason_round_trips_and_unspecified_or_unknown_is_refused() {
        for &kind in ReportKind::ALL {
            assert_eq!(ReportKind::parse(&report_kind_text(pb::ReportKind::from(kind).into())), Ok(kind));
        }
        for &reason in ReportReason::ALL {
            assert_eq!(ReportReason::parse(&report_reason_text(pb::ReportReason::from(reason).into())), Ok(reason));
        }
        for raw in [0, 42, -1] {
            assert!(ReportKind::parse(&report_kind_text(raw)).is_err_and(|e| e.field == "kind"), "{raw}");
            assert!(ReportReason::parse(&report_reason_text(raw)).is_err_and(|e| e.field == "reason"), "{raw}");
        }
    }

    #[test]
    fn every_report_status_has_its_own_wire_value() {
        let wire: Vec<i32> = ReportStatus::ALL.iter().map(|&s| pb::ReportStatus::from(s).into()).collect();
        assert_eq!(
            wire,
            [pb::ReportStatus::Open, pb::ReportStatus::Resolved, pb::ReportStatus::Dismissed].map(i32::from)
        );
    }

    fn profile(at: chrono::DateTime<chrono::Utc>) -> Profile {
        Profile {
            id: UserId::new(),
            first_name: "Bob".to_owned(),
            last_name: String::new(),
            age: None,
            gender: None,
            photo_url: None,
            location: None,
            experience_years: None,
            about: String::new(),
            skills: Vec::new(),
            created_at: at,
            updated_at: at,
            deleted: false,
        }
    }

    fn report(snapshot: Reported, at: chrono::DateTime<chrono::Utc>) -> Report {
        Report {
            id: ReportId::new(),
            reporter_id: UserId::new(),
            kind: snapshot.kind(),
            target_id: "t".to_owned(),
            reason: ReportReason::Other,
            details: String::new(),
            snapshot,
            status: ReportStatus::Dismissed,
            created_at: at,
            resolution: Some(Resolution { by: "ops".to_owned(), note: "fine".to_owned(), at }),
        }
    }

    #[test]
    fn a_snapshot_is_the_oneof_field_of_its_kind_and_a_message_of_its_own_kind() {
        use pb::report::Snapshot;
        let at = chrono::Utc::now();
        let direct = Message {
            id: MessageId::new(),
            sender_id: UserId::new(),
            receiver_id: UserId::new(),
            text: "buy now".to_owned(),
            image: None,
            client_msg_id: None,
            created_at: at,
            read_at: None,
            seq: 1,
        };
        let in_group = GroupMessage {
            id: MessageId::new(),
            group_id: GroupId::new(),
            sender_id: UserId::new(),
            text: "buy now".to_owned(),
            image: None,
            client_msg_id: None,
            created_at: at,
            change: None,
            seq: 2,
        };
        let group = Group {
            id: GroupId::new(),
            name: "Deals".to_owned(),
            description: String::new(),
            visibility: Visibility::Public,
            tags: Vec::new(),
            photo_url: None,
            owner_id: UserId::new(),
            member_count: 1,
            archived: false,
            created_at: at,
            updated_at: at,
        };
        let bob = profile(at);
        let cases = [
            (Reported::User { user: bob.clone() }, Snapshot::User(bob.into()), pb::ReportKind::User),
            (
                Reported::Message { message: direct.clone().into() },
                Snapshot::Message(direct.into()),
                pb::ReportKind::Message,
            ),
            (
                Reported::Message { message: in_group.clone().into() },
                Snapshot::GroupMessage(in_group.into()),
                pb::ReportKind::Message,
            ),
            (Reported::Group { group: group.clone() }, Snapshot::Group(group.into()), pb::ReportKind::Group),
        ];
        for (reported, snapshot, kind) in cases {
            let wire = pb::Report::from(report(reported, at));
            assert_eq!(wire.snapshot, Some(snapshot));
            assert_eq!((wire.kind, wire.status), (kind.into(), pb::ReportStatus::Dismissed.into()));
            assert_eq!(wire.resolution.map(|r| (r.by, r.note)), Some(("ops".to_owned(), "fine".to_owned())));
        }
    }
}

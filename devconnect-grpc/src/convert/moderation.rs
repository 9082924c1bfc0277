//! The operators' calls: audit entries as protobuf messages, and report statuses of a
//! request as the wire words the core parses (and refuses).

use devconnect_core::{AuditAction, AuditEntry, ReportStatus, Result};

use super::timestamp;
use crate::pb;

impl From<AuditAction> for pb::AuditAction {
    fn from(a: AuditAction) -> Self {
        match a {
            AuditAction::ResolveReport => Self::ResolveReport,
            AuditAction::DismissReport => Self::DismissReport,
            AuditAction::Suspend => Self::Suspend,
            AuditAction::Unsuspend => Self::Unsuspend,
            AuditAction::DeleteUser => Self::DeleteUser,
            AuditAction::DeleteAccount => Self::DeleteAccount,
        }
    }
}

impl From<AuditEntry> for pb::AuditEntry {
    fn from(e: AuditEntry) -> Self {
        let AuditEntry { id, actor, action, target_id, note, at } = e;
        Self {
            id: id.to_hex(),
            actor,
            action: pb::AuditAction::from(action).into(),
            target_id,
            note,
            at: Some(timestamp(at)),
        }
    }
}

/// A report status from a request: unspecified and unknown numbers are passed on as
/// text the core refuses (`validation`, field `status`).
pub(crate) fn report_status(raw: i32) -> Result<ReportStatus> {
    let text = match pb::ReportStatus::try_from(raw) {
        Ok(pb::ReportStatus::Open) => ReportStatus::Open.as_str().to_owned(),
        Ok(pb::ReportStatus::Resolved) => ReportStatus::Resolved.as_str().to_owned(),
        Ok(pb::ReportStatus::Dismissed) => ReportStatus::Dismissed.as_str().to_owned(),
        Ok(pb::ReportStatus::Unspecified) => "unspecified".to_owned(),
        Err(_) => raw.to_string(),
    };
    Ok(ReportStatus::parse(&text)?)
}

/// The status filter of `ListReports`: unspecified is every report (`None`).
pub(crate) fn report_filter(raw: i32) -> Result<Option<ReportStatus>> {
    if raw == i32::from(pb::ReportStatus::Unspecified) { Ok(None) } else { report_status(raw).map(Some) }
}

#[cfg(test)]
mod tests {
    use devconnect_core::AuditId;

    use super::*;

    #[test]
    fn every_report_status_round_trips_and_unspecified_means_all_only_in_the_filter() {
        for &status in ReportStatus::ALL {
            let wire = pb::ReportStatus::from(status).into();
            assert_eq!(report_status(wire).ok(), Some(status));
            assert_eq!(report_filter(wire).ok(), Some(Some(status)));
        }
        assert_eq!(report_filter(0).ok(), Some(None));
        assert_eq!(report_status(0).err().map(|e| e.code()), Some("validation"));
        for raw in [42, -1] {
            assert_eq!(report_status(raw).err().map(|e| e.code()), Some("validation"), "{raw}");
            assert_eq!(report_filter(raw).err().map(|e| e.code()), Some("validation"), "{raw}");
        }
    }

    #[test]
    fn every_audit_action_has_its_own_wire_value() {
        let wire: Vec<pb::AuditAction> = AuditAction::ALL.iter().map(|&a| a.into()).collect();
        let mut distinct = wire.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), AuditAction::ALL.len());
        assert!(!wire.contains(&pb::AuditAction::Unspecified));
        let at = chrono::Utc::now();
        let entry = AuditEntry {
            id: AuditId::new(),
            actor: "ops-ann".to_owned(),
            action: AuditAction::Suspend,
            target_id: "t".to_owned(),
            note: "spam".to_owned(),
            at,
        };
        let wire = pb::AuditEntry::from(entry.clone());
        assert_eq!((wire.id, wire.actor.as_str()), (entry.id.to_hex(), "ops-ann"));
        assert_eq!(wire.action, i32::from(pb::AuditAction::Suspend));
        assert_eq!(wire.at.map(|t| t.seconds), Some(at.timestamp()));
    }
}

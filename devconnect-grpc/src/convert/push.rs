//! Push notifications: a subscription and a settings change as the core's types, and
//! the settings as a protobuf message. The core validates every field.

use devconnect_core::{GroupId, PushSettings, PushSettingsPatch, PushSubscription, Result};
use devconnect_types::push::PushKeys;

use super::group_id;
use crate::pb;

/// The browser's subscription. Missing keys are empty strings, which the core refuses
/// as it refuses any wrong length.
pub(crate) fn push_subscription(r: pb::AddPushSubscriptionRequest) -> PushSubscription {
    let pb::AddPushSubscriptionRequest { endpoint, keys } = r;
    let pb::PushKeys { p256dh, auth } = keys.unwrap_or_default();
    PushSubscription { endpoint, keys: PushKeys { p256dh, auth } }
}

/// The change asked for. Only the muted groups' ids are parsed here, under the REST
/// API's field name.
pub(crate) fn push_settings_patch(r: pb::UpdatePushSettingsRequest) -> Result<PushSettingsPatch> {
    let pb::UpdatePushSettingsRequest { messages, requests, groups, previews, muted_groups } = r;
    let muted_groups = muted_groups
        .map(|list| list.group_ids.iter().map(|raw| group_id("mutedGroups", raw)).collect::<Result<Vec<GroupId>>>())
        .transpose()?;
    Ok(PushSettingsPatch { messages, requests, groups, previews, muted_groups })
}

impl From<PushSettings> for pb::PushSettings {
    fn from(s: PushSettings) -> Self {
        let PushSettings { messages, requests, groups, previews, muted_groups } = s;
        Self {
            messages,
            requests,
            groups,
            previews,
            muted_group_ids: muted_groups.into_iter().map(GroupId::to_hex).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_without_keys_has_empty_keys_for_the_core_to_refuse() {
        let request = pb::AddPushSubscriptionRequest { endpoint: "https://push.example.com/x".into(), keys: None };
        let subscription = push_subscription(request);
        assert_eq!(subscription.endpoint, "https://push.example.com/x");
        assert_eq!((subscription.keys.p256dh.as_str(), subscription.keys.auth.as_str()), ("", ""));
    }

    #[test]
    fn only_the_fields_present_are_changed_and_an_empty_muted_list_clears_it() {
        let Ok(patch) =
            push_settings_patch(pb::UpdatePushSettingsRequest { previews: Some(false), ..Default::default() })
        else {
            panic!("a change of previews is well-formed")
        };
        assert_eq!(patch, PushSettingsPatch { previews: Some(false), ..PushSettingsPatch::default() });
        let clear =
            pb::UpdatePushSettingsRequest { muted_groups: Some(pb::GroupIdList::default()), ..Default::default() };
        assert_eq!(push_settings_patch(clear).ok().and_then(|p| p.muted_groups), Some(Vec::new()));
    }

    #[test]
    fn a_malformed_muted_group_id_is_a_validation_error() {
        let bad = pb::UpdatePushSettingsRequest {
            muted_groups: Some(pb::GroupIdList { group_ids: vec!["nope".into()] }),
            ..Default::default()
        };
        assert_eq!(push_settings_patch(bad).err().map(|e| e.code()), Some("validation"));
    }

    #[test]
    fn settings_carry_every_field_with_group_ids_as_hex() {
        let group = GroupId::new();
        let settings =
            PushSettings { messages: false, previews: false, muted_groups: vec![group], ..Default::default() };
        let wire = pb::PushSettings::from(settings);
        assert_eq!((wire.messages, wire.requests, wire.groups, wire.previews), (false, true, true, false));
        assert_eq!(wire.muted_group_ids, [group.to_hex()]);
    }
}

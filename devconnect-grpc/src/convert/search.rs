//! Developer search: a `SearchUsers` request as the core's query, and a page of results
//! as protobuf messages. The core validates every field.

use devconnect_core::search::{Relation, SearchPage, SearchResult};
use devconnect_core::{Result, SearchQuery};

use super::user_id;
use crate::pb;

/// The core's query. Only `as_of` is parsed here (an id), under the REST API's name.
pub(crate) fn search_query(r: pb::SearchUsersRequest) -> Result<SearchQuery> {
    let pb::SearchUsersRequest { q, skills, location, min_experience, max_experience, page, limit, as_of } = r;
    Ok(SearchQuery {
        q,
        skills,
        location,
        min_experience: min_experience.map(i64::from),
        max_experience: max_experience.map(i64::from),
        page,
        limit,
        as_of: as_of.map(|raw| user_id("asOf", &raw)).transpose()?,
    })
}

impl From<Relation> for pb::Relation {
    fn from(r: Relation) -> Self {
        match r {
            Relation::Connected => Self::Connected,
            Relation::Pending => Self::Pending,
            Relation::None => Self::None,
        }
    }
}

impl From<SearchResult> for pb::SearchResult {
    fn from(r: SearchResult) -> Self {
        let SearchResult { profile, relation } = r;
        Self { profile: Some(profile.into()), relation: pb::Relation::from(relation).into() }
    }
}

impl From<SearchPage> for pb::SearchUsersResponse {
    fn from(p: SearchPage) -> Self {
        let SearchPage { results, page, limit, has_more, as_of } = p;
        Self { results: results.into_iter().map(Into::into).collect(), page, limit, has_more, as_of: as_of.to_hex() }
    }
}

#[cfg(test)]
mod tests {
    use devconnect_core::UserId;

    use super::*;

    #[test]
    fn every_relation_has_its_own_wire_value_and_none_is_not_unspecified() {
        let wire = [Relation::Connected, Relation::Pending, Relation::None].map(pb::Relation::from);
        assert_eq!(wire, [pb::Relation::Connected, pb::Relation::Pending, pb::Relation::None]);
    }

    #[test]
    fn a_request_becomes_the_core_query_with_as_of_parsed_and_values_left_to_the_core() {
        let as_of = UserId::new();
        let request = pb::SearchUsersRequest {
            q: Some("ada".into()),
            skills: vec!["rust".into()],
            location: Some("berlin".into()),
            min_experience: Some(-1),
            max_experience: Some(61),
            page: Some(0),
            limit: Some(500),
            as_of: Some(as_of.to_hex()),
        };
        let Ok(query) = search_query(request) else { panic!("a well-formed as_of is accepted") };
        // Out-of-range values are passed on unchanged: refusing or capping them is the core's rule.
        assert_eq!(
            (query.min_experience, query.max_experience, query.page, query.limit),
            (Some(-1), Some(61), Some(0), Some(500))
        );
        assert_eq!(
            (query.q.as_deref(), query.location.as_deref(), query.as_of),
            (Some("ada"), Some("berlin"), Some(as_of))
        );
        assert_eq!(query.skills, ["rust"]);
        let bad = search_query(pb::SearchUsersRequest { as_of: Some("later".into()), ..Default::default() });
        assert_eq!(bad.err().map(|e| e.code()), Some("validation"));
        assert!(search_query(pb::SearchUsersRequest::default()).is_ok_and(|q| q.as_of.is_none()));
    }
}

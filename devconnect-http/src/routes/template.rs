//! Route paths written once. Each route's path is one `&'static str` in OpenAPI's form
//! (`/message/{userId}/read`), named by its `#[utoipa::path]`, matched by [`at`], and
//! turned into the metrics label (`/message/:userId/read`) by
//! [`tag`](crate::telemetry::tag).

use std::sync::Arc;

use warp::filters::path::FullPath;
use warp::{Filter, Rejection};

/// One segment of a template.
#[derive(Debug, PartialEq)]
enum Segment {
    Literal(&'static str),
    Param,
}

/// The segments of `template`; parameters are `{name}` segments.
fn segments(template: &'static str) -> Vec<Segment> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(|s| if s.starts_with('{') && s.ends_with('}') { Segment::Param } else { Segment::Literal(s) })
        .collect()
}

/// The `N` parameters of `path` if it matches `segments`, raw (not percent-decoded)
/// as warp's `path::param` gives them. Matching follows warp's `path!`: one trailing
/// slash is allowed, empty segments never match.
fn matches<const N: usize>(segments: &[Segment], path: &str) -> Option<[String; N]> {
    let path = path.strip_prefix('/')?;
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut params = Vec::with_capacity(N);
    let mut given = path.split('/');
    for segment in segments {
        let part = given.next().filter(|p| !p.is_empty())?;
        match segment {
            Segment::Literal(literal) if *literal == part => {}
            Segment::Literal(_) => return None,
            Segment::Param => params.push(part.to_owned()),
        }
    }
    if given.next().is_some() {
        return None;
    }
    params.try_into().ok()
}

/// Matches the whole request path against `template` and extracts its `N` parameters;
/// any other path is rejected as not found (so another route, or 404, answers).
///
/// # Panics
/// At construction, if `template` does not have exactly `N` parameters: a route
/// written wrong never starts, rather than never matching.
fn at<const N: usize>(
    template: &'static str,
) -> impl Filter<Extract = ([String; N],), Error = Rejection> + Clone + use<N> {
    let segments: Arc<[Segment]> = segments(template).into();
    let params = segments.iter().filter(|s| **s == Segment::Param).count();
    assert_eq!(params, N, "route template {template} has {params} parameters, its filter extracts {N}");
    warp::path::full().and_then(move |path: FullPath| {
        let found = matches::<N>(&segments, path.as_str()).ok_or_else(warp::reject::not_found);
        std::future::ready(found)
    })
}

/// [`at`] for a template without parameters.
pub(crate) fn exact(template: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<> {
    at::<0>(template).map(|[]: [String; 0]| ()).untuple_one()
}

/// [`at`] for a template with one parameter.
pub(crate) fn at1(template: &'static str) -> impl Filter<Extract = (String,), Error = Rejection> + Clone + use<> {
    at::<1>(template).map(|[a]: [String; 1]| a)
}

/// [`at`] for a template with two parameters, in the order they appear.
pub(crate) fn at2(
    template: &'static str,
) -> impl Filter<Extract = (String, String), Error = Rejection> + Clone + use<> {
    at::<2>(template).map(|[a, b]: [String; 2]| (a, b)).untuple_one()
}

/// The metrics label of `template`: `{name}` segments become `:name`. Labels are made
/// once per template, when routes are built, and kept for the process: the templates
/// are a fixed set, so this holds a fixed amount of memory.
pub(crate) fn label(template: &'static str) -> &'static str {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, PoisonError};

    static LABELS: Mutex<BTreeMap<&'static str, &'static str>> = Mutex::new(BTreeMap::new());
    if !template.contains('{') {
        return template;
    }
    let mut labels = LABELS.lock().unwrap_or_else(PoisonError::into_inner);
    labels.entry(template).or_insert_with(|| {
        let label: String = template
            .split('/')
            .map(|s| {
                s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).map_or_else(|| s.to_owned(), |n| format!(":{n}"))
            })
            .collect::<Vec<_>>()
            .join("/");
        Box::leak(label.into_boxed_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(path: &str) -> Option<[String; 2]> {
        matches::<2>(&segments("/request/send/{status}/{toUserId}"), path)
    }

    #[test]
    fn paths_match_like_warps_path_macro() {
        assert_eq!(send("/request/send/interested/abc"), Some(["interested".into(), "abc".into()]));
        assert_eq!(send("/request/send/interested/abc/"), Some(["interested".into(), "abc".into()]));
        assert_eq!(send("/request/send/a%20b/c"), Some(["a%20b".into(), "c".into()]), "raw, as warp gives them");
        for miss in [
            "/request/send/interested",
            "/request/send//abc",
            "/request/send/a/b/c",
            "/request/send/a/b//",
            "request/send/a/b",
            "/request/sent/a/b",
            "/",
        ] {
            assert_eq!(send(miss), None, "{miss}");
        }
        let healthz = segments("/healthz");
        assert_eq!(matches::<0>(&healthz, "/healthz"), Some([]));
        assert_eq!(matches::<0>(&healthz, "/healthz/"), Some([]));
        assert_eq!(matches::<0>(&healthz, "/healthzz"), None);
        assert_eq!(matches::<0>(&healthz, "//healthz"), None);
    }

    #[test]
    fn labels_use_the_colon_form_the_metrics_always_had() {
        assert_eq!(label("/request/send/{status}/{toUserId}"), "/request/send/:status/:toUserId");
        assert_eq!(label("/message/{userId}/read"), "/message/:userId/read");
        assert_eq!(label("/healthz"), "/healthz");
        assert!(std::ptr::eq(label("/message/{userId}"), label("/message/{userId}")), "made once");
    }

    #[test]
    #[should_panic(expected = "has 1 parameters")]
    fn a_filter_with_the_wrong_number_of_parameters_is_refused_when_built() {
        let _ = at::<2>("/profile/{userId}");
    }
}

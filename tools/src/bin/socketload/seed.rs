//! The load's users, connections and group, written through the core before the server
//! starts.

use std::path::Path;

use devconnect_core::{
    Config, DevConnect, GroupId, NewGroup, Peer, RateLimit, ReviewStatus, SendStatus, Settings, Signup, UserId,
    Visibility,
};
use secrecy::SecretString;

use crate::BoxError;

/// Creates `n` users through the core, pairs (0,1), (2,3), … as connections, and returns
/// each user's id and token; with `group`, also a public group of all of them.
pub async fn seed(
    data_dir: &Path,
    secret: &str,
    n: usize,
    group: bool,
    database_url: Option<&str>,
) -> Result<(Vec<(UserId, String)>, Option<GroupId>), BoxError> {
    let mut config = Config::new(data_dir);
    config.database_url = database_url.map(str::to_owned);
    config.jwt_secret = Some(SecretString::from(secret.to_owned()));
    let group_member_cap = u32::try_from(n).unwrap_or(u32::MAX);
    // The server is not started yet: every core may hash the signups' passwords.
    let hash_concurrency = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    config.settings =
        Settings { request_rate: RateLimit::per_minute(0), group_member_cap, hash_concurrency, ..Settings::default() };
    let app = DevConnect::open(config).await?;
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let signup = Signup {
                first_name: format!("Load{i}"),
                email: format!("load{i}@example.com"),
                password: "Str0ng!pass".to_owned(),
                ..Signup::default()
            };
            app.signup(signup, Peer::Local).await.map(|a| (a.user.profile.id, a.token))
        }));
    }
    let mut users = Vec::with_capacity(n);
    for task in tasks {
        users.push(task.await??);
    }
    for pair in users.chunks(2) {
        if let [(a, _), (b, _)] = pair {
            let request = app.send_request(*a, *b, SendStatus::Interested, None).await?;
            app.review_request(*b, request.id, ReviewStatus::Accepted).await?;
        }
    }
    let group = match (group, users.first()) {
        (true, Some((owner, _))) => {
            let new = NewGroup {
                name: "Load".to_owned(),
                description: String::new(),
                visibility: Visibility::Public,
                tags: Vec::new(),
            };
            let group = app.create_group(*owner, new).await?.id;
            for (member, _) in &users[1..] {
                app.join_group(*member, group).await?;
            }
            Some(group)
        }
        _ => None,
    };
    app.close().await?;
    Ok((users, group))
}

//! The analytics aggregate on MongoDB: engagement counted by indexed range queries per
//! day.

use std::collections::HashSet;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};

use super::documents::{bson_time, time};
use super::error::db_err;
use super::{MongoStore, aggregate, find_all};
use crate::Result;
use crate::model::EngagementDay;
use crate::store::AnalyticsStore;

#[async_trait]
impl AnalyticsStore for MongoStore {
    async fn engagement(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<EngagementDay>> {
        // One indexed range query per day and measure (counts and `$group`s run in the
        // database). A single `$group` on `$dateToString` would do it in one, but the
        // test server cannot evaluate date operators, and a range is at most 366 days.
        let mut days = Vec::new();
        let mut start = from;
        while start < to {
            let end = (start + chrono::Duration::days(1)).min(to);
            let span = doc! { "$gte": bson_time(start), "$lt": bson_time(end) };
            let mut row = EngagementDay::empty(start.date_naive());
            let created = doc! { "createdAt": span.clone() };
            row.messages = self.messages.count_documents(created.clone()).await.map_err(db_err)?;
            row.requests_sent = self.requests.count_documents(created.clone()).await.map_err(db_err)?;
            let reviewed = doc! { "status": { "$in": ["accepted", "rejected"] }, "updatedAt": span.clone() };
            let mut active = HashSet::<ObjectId>::new();
            for (coll, filter, who) in [
                (&self.messages, &created, "$senderId"),
                (&self.requests, &created, "$fromUserId"),
                (&self.requests, &reviewed, "$toUserId"),
            ] {
                let groups =
                    aggregate(coll, vec![doc! { "$match": filter.clone() }, doc! { "$group": { "_id": who } }]).await?;
                active.extend(groups.iter().filter_map(|g| g.get_object_id("_id").ok()));
            }
            row.active_users = active.len() as u64;
            // Times to accept: one small document per request accepted that day (jongodb
            // has neither `$push` nor `$percentile`, so the median is taken here).
            let accepted = doc! { "status": "accepted", "updatedAt": span };
            let mut waits: Vec<f64> = find_all(&self.requests, accepted, doc! { "updatedAt": 1 })
                .await?
                .iter()
                .filter_map(|d| Some((time(d, "updatedAt")? - time(d, "createdAt")?).num_milliseconds()))
                // Milliseconds of a wait fit an f64 exactly.
                .map(|ms| ms as f64 / 1000.0)
                .collect();
            waits.sort_by(f64::total_cmp);
            row.requests_accepted = waits.len() as u64;
            row.median_accept_secs = crate::model::median(&waits);
            if row != EngagementDay::empty(row.date) {
                days.push(row);
            }
            start = end;
        }
        Ok(days)
    }
}

//! The orphan sweep: objects nothing refers to any more, left by a crash or a store failure
//! between the database write and the store write (a deleted asset's or space's objects, the
//! derivatives a newer processing replaced, an attempt that died halfway), are removed once
//! they are older than a grace period.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use storage::keys;

use crate::error::{Error, ErrorKind, Result};
use crate::process::Ingestor;

/// How old an object nothing refers to must be before a sweep removes it: far longer than any
/// processing takes to record what it stored, or an upload its record.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60 * 60);

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Objects listed.
    pub examined: usize,
    /// Objects removed.
    pub removed: usize,
}

impl Ingestor {
    /// Removes every object older than `grace` that belongs to no asset, or that is a
    /// derivative other than the one its asset's record names. Masters and the current
    /// derivatives of every asset are kept.
    pub async fn sweep_orphans(&self, grace: Duration) -> Result<SweepReport> {
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let objects = self.storage().list_all().await?;
        let mut report = SweepReport {
            examined: objects.len(),
            ..SweepReport::default()
        };
        // objects by space: each space's assets are read once
        let mut by_space: BTreeMap<(i32, i32), Vec<String>> = BTreeMap::new();
        for (key, modified) in objects {
            if modified > cutoff {
                continue;
            }
            let mut parts = key.splitn(3, '/');
            let (Some(customer), Some(space)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (Ok(customer), Ok(space)) = (customer.parse(), space.parse()) else {
                continue;
            };
            by_space.entry((customer, space)).or_default().push(key);
        }
        for ((customer, space), keys_of_space) in by_space {
            let current: HashMap<String, Option<String>> = self
                .domain()
                .stored_asset_versions(customer, space)
                .await
                .map_err(|error| Error::new(ErrorKind::Database, error.to_string()))?
                .into_iter()
                .map(|(id, version)| (keys::asset_prefix(customer, space, &id), version))
                .collect();
            for key in keys_of_space {
                let Some((prefix, object)) = keys::classify(&key) else {
                    continue;
                };
                let orphan = match current.get(prefix) {
                    None => true,
                    Some(recorded) => match object {
                        keys::StoredObject::Derivative(version) => version != recorded.as_deref(),
                        keys::StoredObject::Master | keys::StoredObject::Other => false,
                    },
                };
                if orphan {
                    self.storage().delete(&key).await?;
                    report.removed += 1;
                }
            }
        }
        if report.removed > 0 {
            tracing::info!(
                removed = report.removed,
                examined = report.examined,
                "orphan sweep"
            );
        }
        Ok(report)
    }
}

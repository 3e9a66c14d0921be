//! The local store: `aiswitch.db`, SQLite in WAL mode with a busy timeout and
//! versioned migrations kept as `.sql` files.
//!
//! Migrations are applied in order and recorded in `PRAGMA user_version`; a released
//! migration file is never edited, a change is a new file.

mod budgets;
mod events;
mod metrics;
mod quota;
mod tasks;
mod usage;
mod usage_export;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use budgets::{AlertRow, BudgetStatus};
pub use events::now_ms;
pub use quota::QuotaRow;
pub use tasks::{TaskQuery, TaskRow, TaskState};
pub use usage::{GroupBy, UsageAdded, UsageFilter, UsageGroup, UsageRow};
pub use usage_export::{UsageRecord, UsageTotal};

/// The migrations, in order. Index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_events.sql"),
    include_str!("migrations/0002_tasks.sql"),
    include_str!("migrations/0003_usage.sql"),
    include_str!("migrations/0004_budgets.sql"),
    include_str!("migrations/0005_import.sql"),
    include_str!("migrations/0006_metrics.sql"),
    include_str!("migrations/0007_usage_identity.sql"),
    include_str!("migrations/0008_quota_windows.sql"),
    include_str!("migrations/0009_hourly_source.sql"),
    include_str!("migrations/0010_usage_project.sql"),
];

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Opening, migrating or querying the database failed.
    #[error("database {path}: {source}; check the data directory or set AISWITCH_HOME")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer aiswitch.
    #[error(
        "database {path} has schema version {found}, newer than this aiswitch ({supported}): upgrade aiswitch"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: usize,
        /// The newest version this build knows.
        supported: usize,
    },
}

/// An open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Days, weeks and months of budgets and of usage by day (UTC until set).
    calendar: crate::calendar::Calendar,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(busy_timeout).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let mut store = Self {
            conn,
            path: path.to_path_buf(),
            calendar: crate::calendar::Calendar::default(),
        };
        store.migrate()?;
        store.with_calendar(crate::calendar::Calendar::default())
    }

    /// Uses `calendar` for budgets' periods and usage by day, week and month: SQL sees
    /// it as `local_day(ms)` (`YYYY-MM-DD`), `local_week(ms)` (its week's first day)
    /// and `local_month(ms)` (`YYYY-MM`).
    pub fn with_calendar(
        mut self,
        calendar: crate::calendar::Calendar,
    ) -> Result<Self, StoreError> {
        use rusqlite::functions::FunctionFlags;
        type Key = fn(&crate::calendar::Calendar, i64) -> String;
        let keys: [(&str, Key); 3] = [
            ("local_day", crate::calendar::Calendar::day_key),
            ("local_week", crate::calendar::Calendar::week_key),
            ("local_month", crate::calendar::Calendar::month_key),
        ];
        for (name, key) in keys {
            let calendar = calendar.clone();
            self.conn
                .create_scalar_function(
                    name,
                    1,
                    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
                    move |ctx| Ok(key(&calendar, ctx.get::<i64>(0)?)),
                )
                .map_err(|e| self.sqlite_err(e))?;
        }
        self.calendar = calendar;
        Ok(self)
    }

    /// Applies the migrations this database has not seen, each in its own
    /// transaction together with the version bump.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let version = user_version(&self.conn).map_err(err)?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: MIGRATIONS.len(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            // Another process may have migrated while we waited for the write lock.
            let now = user_version(&tx).map_err(err)?;
            if now > index {
                continue;
            }
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(index + 1).unwrap_or(i64::MAX),
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<usize, StoreError> {
        user_version(&self.conn).map_err(|source| self.sqlite_err(source))
    }

    pub(crate) fn sqlite_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    Ok(usize::try_from(version).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_is_wal() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("a.db");
        let store = Store::open(&path, Duration::from_secs(1)).expect("open");
        assert_eq!(store.schema_version().expect("version"), MIGRATIONS.len());
        drop(store);
        let store = Store::open(&path, Duration::from_secs(1)).expect("reopen");
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
    }
}

//! Copying a whole database into another store (`fedblog migrate-store`): every table
//! but sqlx's `_sqlx_migrations` (the target runs its own migrations), row by row,
//! generically: each value is read through the Any driver as null, integer, real,
//! text or blob and bound into an INSERT with the target's column names.
//!
//! Triggers must not add rows to the copy: what they derived (notifications, the
//! event and change logs) is copied, not derived again. PostgreSQL skips its triggers
//! (foreign keys included) under `session_replication_role = replica`. SQLite cannot
//! turn them off without dropping them, so there the log tables come last
//! ([`DERIVED`]): what the triggers wrote into them while the rest was copied is
//! cleared first, and the one trigger that rewrites the row it fires on
//! (`notifications_group`) is undone by writing the copied value back.

use std::collections::BTreeSet;

use sqlx::{
    Acquire, Any, AnyConnection, Row,
    any::{AnyRow, AnyTypeInfoKind},
    pool::PoolConnection,
    query::Query,
};

use super::{Backend, Db, Error};

/// Every table, in an order that satisfies the foreign keys (a table after those it
/// references), the logs the triggers write last. A test checks it against both
/// stores' schemas, and [`copy`] refuses a database with a table missing here.
pub const TABLES: &[&str] = &[
    "meta",
    "instance_actor",
    "workers",
    "hosts",
    "blocks",
    "remote_actors",
    "account_lookups",
    "remote_statuses",
    "activities",
    "deliveries",
    "inbox_activities",
    "authors",
    "author_passwords",
    "author_reactions",
    "markers",
    "mutes",
    "following",
    "followers",
    "filters",
    "filter_keywords",
    "filter_statuses",
    "posts",
    "post_edits",
    "media",
    "replies",
    "reactions",
    "quotes",
    "direct_messages",
    "conversations",
    "oauth_apps",
    "oauth_tokens",
    "oauth_codes",
    "oauth_csrf",
    "login_failures",
    "claims",
    // What SQLite's triggers derive from the tables above: see the module's comment.
    "notifications",
    "status_events",
    "conversation_events",
    "cache_changes",
];

/// The tail of [`TABLES`] that triggers write.
const DERIVED: &[&str] = &[
    "notifications",
    "status_events",
    "conversation_events",
    "cache_changes",
];

/// Tables whose page cursor is SQLite's hidden rowid, an explicit `rowid` column on
/// PostgreSQL: selected and inserted by name on both, so a copy keeps it.
const EXPLICIT_ROWID: &[&str] = &["followers", "following"];

/// SQLite triggers that rewrite the row they fire on: (table, key, column).
const SQLITE_REWRITES: &[(&str, &str, &str)] = &[("notifications", "id", "group_key")];

/// Rows per transaction on the target.
const BATCH_ROWS: usize = 500;
/// Bound parameters per INSERT, below both stores' limits (SQLite 32,766; PostgreSQL
/// 65,535).
const MAX_PARAMS: usize = 30_000;

/// Why a copy was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target already holds data (table {table} has rows)")]
    TargetNotEmpty { table: String },
    #[error(
        "the {store} database has table {table}, which db::copy::TABLES does not list \
         (a fedblog bug: the copy would leave it out)"
    )]
    UnknownTable { store: &'static str, table: String },
    #[error("table {table}: {source_rows} row(s) in the source but {target_rows} in the target")]
    CountMismatch {
        table: String,
        source_rows: i64,
        target_rows: i64,
    },
    #[error("table {table}: the copy breaks {violations} foreign key reference(s)")]
    ForeignKeys { table: String, violations: usize },
    #[error(transparent)]
    Db(#[from] Error),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(Error(e))
    }
}

/// What [`copy`] reports as it goes, for a progress bar.
#[derive(Debug)]
pub enum Step<'a> {
    /// A table starts, with its source row count.
    Table { name: &'a str, rows: u64 },
    /// `n` more rows of it are committed.
    Rows(u64),
}

/// A store's name in messages.
fn store_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// The store's tables, without sqlx's and SQLite's own.
pub async fn tables(db: &Db) -> Result<BTreeSet<String>, Error> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '_sqlx_migrations'"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(sql).fetch_all(&db.0.writer.pool).await?;
    Ok(names.into_iter().collect())
}

/// Refuses a database with a table [`TABLES`] does not list.
async fn check_tables(db: &Db) -> Result<(), CopyError> {
    match tables(db)
        .await?
        .into_iter()
        .find(|t| !TABLES.contains(&t.as_str()))
    {
        Some(table) => Err(CopyError::UnknownTable {
            store: store_name(db.backend()),
            table,
        }),
        None => Ok(()),
    }
}

/// Rows per table, in [`TABLES`]'s order.
pub async fn counts(db: &Db) -> Result<Vec<(&'static str, i64)>, Error> {
    let mut out = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{table}\""
        )))
        .fetch_one(&db.0.writer.pool)
        .await?;
        out.push((*table, n));
    }
    Ok(out)
}

/// The first table that holds a row, if any.
pub async fn first_nonempty_table(db: &Db) -> Result<Option<&'static str>, Error> {
    for table in TABLES {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM \"{table}\" LIMIT 1"
        )))
        .fetch_optional(&db.0.writer.pool)
        .await?;
        if row.is_some() {
            return Ok(Some(table));
        }
    }
    Ok(None)
}

/// How a column's values are bound when they are null (PostgreSQL wants a null of
/// the column's type).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Integer,
    Real,
    Text,
    Blob,
}

impl Kind {
    fn of_declared(backend: Backend, declared: &str) -> Self {
        let t = declared.to_ascii_lowercase();
        match backend {
            // SQLite's affinity rules, in its order.
            Backend::Sqlite if t.contains("int") => Self::Integer,
            Backend::Sqlite if t.contains("char") || t.contains("clob") || t.contains("text") => {
                Self::Text
            }
            Backend::Sqlite if t.contains("blob") || t.is_empty() => Self::Blob,
            Backend::Sqlite => Self::Real,
            Backend::Postgres => match t.as_str() {
                "bigint" | "integer" | "smallint" | "boolean" => Self::Integer,
                "double precision" | "real" | "numeric" => Self::Real,
                "bytea" => Self::Blob,
                _ => Self::Text,
            },
        }
    }
}

/// The target table's columns (with `rowid` where it is hidden on SQLite).
async fn columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, Kind)>, Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(table)
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<(String, Kind)> = rows
        .into_iter()
        .map(|(name, t)| (name, Kind::of_declared(backend, &t)))
        .collect();
    if EXPLICIT_ROWID.contains(&table) && !out.iter().any(|(c, _)| c == "rowid") {
        out.push(("rowid".to_owned(), Kind::Integer));
    }
    Ok(out)
}

/// One value, as read from the source.
#[derive(Debug, Clone)]
enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn value(row: &AnyRow, i: usize) -> Result<Value, sqlx::Error> {
    use sqlx::ValueRef;
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        AnyTypeInfoKind::Null => Value::Null,
        AnyTypeInfoKind::Bool => Value::Integer(i64::from(row.try_get::<bool, _>(i)?)),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            Value::Integer(row.try_get(i)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => Value::Real(row.try_get(i)?),
        AnyTypeInfoKind::Text => Value::Text(row.try_get(i)?),
        AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i)?),
    })
}

fn bind(
    q: Query<'static, Any, sqlx::any::AnyArguments>,
    v: Value,
    kind: Kind,
) -> Query<'static, Any, sqlx::any::AnyArguments> {
    match (v, kind) {
        (Value::Null, Kind::Integer) => q.bind(None::<i64>),
        (Value::Null, Kind::Real) => q.bind(None::<f64>),
        (Value::Null, Kind::Text) => q.bind(None::<String>),
        (Value::Null, Kind::Blob) => q.bind(None::<Vec<u8>>),
        (Value::Integer(i), _) => q.bind(i),
        (Value::Real(r), _) => q.bind(r),
        (Value::Text(t), _) => q.bind(t),
        (Value::Blob(b), _) => q.bind(b),
    }
}

/// Starts a transaction on the target in which its triggers do not fire (PostgreSQL).
async fn begin_target<'c>(
    conn: &'c mut PoolConnection<Any>,
    backend: Backend,
) -> Result<sqlx::Transaction<'c, Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => sqlx::Connection::begin_with(&mut **conn, "BEGIN IMMEDIATE").await,
        Backend::Postgres => {
            let mut tx = conn.begin().await?;
            sqlx::query("SET LOCAL session_replication_role = replica")
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// Copies every row of `source` into `target`, which must be empty, then checks the
/// counts of every table. Returns the rows per table in [`TABLES`]'s order.
///
/// The source is read in one snapshot; the target is written in transactions of
/// [`BATCH_ROWS`] rows. Nothing must write to either meanwhile.
pub async fn copy(
    source: &Db,
    target: &Db,
    progress: &mut (dyn FnMut(Step<'_>) + Send),
) -> Result<Vec<(&'static str, i64)>, CopyError> {
    check_tables(source).await?;
    check_tables(target).await?;
    if let Some(table) = first_nonempty_table(target).await? {
        return Err(CopyError::TargetNotEmpty {
            table: table.to_owned(),
        });
    }
    let (from, to) = (source.backend(), target.backend());
    let present = tables(source).await?;

    let mut src = match from {
        Backend::Sqlite => source.0.writer.pool.begin().await?,
        Backend::Postgres => {
            source
                .0
                .writer
                .pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?
        }
    };
    let mut dst = target.0.writer.pool.acquire().await?;
    if to == Backend::Sqlite {
        // Rows arrive table by table, a reply's parent perhaps after it: the references
        // are checked once at the end instead (`foreign_key_check`).
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *dst)
            .await?;
    }

    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        if to == Backend::Sqlite && Some(table) == DERIVED.first() {
            let mut tx = begin_target(&mut dst, to).await?;
            for derived in DERIVED {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM \"{derived}\"")))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        if !present.contains(*table) {
            copied.push((*table, 0));
            continue;
        }
        let cols = columns(&mut dst, to, table).await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{table}\""
        )))
        .fetch_one(&mut *src)
        .await?;
        progress(Step::Table {
            name: table,
            rows: u64::try_from(total).unwrap_or(0),
        });
        let names: Vec<String> = cols.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let select = format!("SELECT {} FROM \"{table}\"", names.join(", "));
        let rewrite = SQLITE_REWRITES
            .iter()
            .find(|(t, ..)| to == Backend::Sqlite && t == table)
            .and_then(|&(_, key, column)| {
                let k = cols.iter().position(|(c, _)| c == key)?;
                let c = cols.iter().position(|(c, _)| c == column)?;
                Some((
                    k,
                    c,
                    format!("UPDATE \"{table}\" SET \"{column}\" = $1 WHERE \"{key}\" = $2"),
                ))
            });
        let per_insert = (MAX_PARAMS / cols.len().max(1)).clamp(1, BATCH_ROWS);

        let mut rows = sqlx::query(sqlx::AssertSqlSafe(select)).fetch(&mut *src);
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH_ROWS);
        let mut done = 0i64;
        loop {
            use futures_util::TryStreamExt;
            let row = rows.try_next().await?;
            if let Some(row) = &row {
                let values = (0..cols.len())
                    .map(|i| value(row, i))
                    .collect::<Result<Vec<_>, _>>()?;
                batch.push(values);
            }
            if batch.len() == BATCH_ROWS || (row.is_none() && !batch.is_empty()) {
                let n = batch.len();
                write_batch(
                    &mut dst,
                    to,
                    table,
                    &names,
                    &cols,
                    per_insert,
                    rewrite.as_ref(),
                    std::mem::take(&mut batch),
                )
                .await?;
                done += n as i64;
                progress(Step::Rows(n as u64));
            }
            if row.is_none() {
                break;
            }
        }
        drop(rows);
        copied.push((*table, done));
    }
    src.rollback().await?;

    match to {
        Backend::Sqlite => {
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                    .fetch_all(&mut *dst)
                    .await?;
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&mut *dst)
                .await?;
            if let Some((table,)) = broken.first() {
                return Err(CopyError::ForeignKeys {
                    table: table.clone(),
                    violations: broken.len(),
                });
            }
        }
        Backend::Postgres => {
            // Ids were inserted explicitly: each identity continues past the largest.
            let identities: Vec<(String, String)> = sqlx::query_as(
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND is_identity = 'YES'",
            )
            .fetch_all(&mut *dst)
            .await?;
            for (table, column) in identities {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), \
                     COALESCE(MAX(\"{column}\"), 0) + 1, false) FROM \"{table}\""
                )))
                .bind(&table)
                .bind(&column)
                .execute(&mut *dst)
                .await?;
            }
        }
    }
    drop(dst);

    // Every row accounted for: the copy's counts against both stores' own.
    let (before, after) = (counts(source).await?, counts(target).await?);
    for ((table, s), (_, t)) in before.iter().zip(&after) {
        if s != t {
            return Err(CopyError::CountMismatch {
                table: (*table).to_owned(),
                source_rows: *s,
                target_rows: *t,
            });
        }
    }
    Ok(after)
}

/// Inserts `batch` into `table` in one transaction, in INSERTs of `per_insert` rows.
#[allow(clippy::too_many_arguments)]
async fn write_batch(
    conn: &mut PoolConnection<Any>,
    backend: Backend,
    table: &str,
    names: &[String],
    cols: &[(String, Kind)],
    per_insert: usize,
    rewrite: Option<&(usize, usize, String)>,
    batch: Vec<Vec<Value>>,
) -> Result<(), sqlx::Error> {
    // The values SQLite's rewriting trigger will overwrite, to write back after.
    let restore: Vec<(Value, Value)> = match rewrite {
        Some(&(k, c, _)) => batch
            .iter()
            .map(|row| (row[c].clone(), row[k].clone()))
            .collect(),
        None => Vec::new(),
    };
    let mut tx = begin_target(conn, backend).await?;
    let mut rows = batch.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_insert).collect();
        let mut sql = format!("INSERT INTO \"{table}\" ({}) VALUES ", names.join(", "));
        let mut p = 0;
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for i in 0..cols.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                p += 1;
                sql.push_str(&format!("${p}"));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for (v, (_, kind)) in row.into_iter().zip(cols) {
                q = bind(q, v, *kind);
            }
        }
        q.execute(&mut *tx).await?;
    }
    if let Some((key_col, value_col, sql)) = rewrite {
        let kinds = (cols[*value_col].1, cols[*key_col].1);
        for (v, k) in restore {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            bind(bind(q, v, kinds.0), k, kinds.1)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Database;

    /// Every table of the schema is in TABLES (so the copy leaves none out), and every
    /// entry names a table; PostgreSQL's schema is checked by the API suite's copy.
    #[tokio::test]
    async fn tables_lists_every_table_of_the_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&Database::File(dir.path().join("db.sqlite")))
            .await
            .expect("open");
        let schema = tables(&db).await.expect("tables");
        let listed: BTreeSet<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
        assert_eq!(schema, listed, "db::copy::TABLES against the schema");
        assert!(TABLES.ends_with(DERIVED));
    }
}

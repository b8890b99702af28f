use super::{Executor, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InstanceActorRow {
    pub public_key_pem: String,
    pub private_key_pem: String,
}

pub async fn get(db: impl Executor<'_>) -> Result<Option<InstanceActorRow>> {
    sqlx::query_as("SELECT public_key_pem, private_key_pem FROM instance_actor WHERE id = 1")
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Stores the key pair unless one exists already (another process may have been first).
pub async fn insert_if_absent(
    db: impl Executor<'_>,
    public_key_pem: &str,
    private_key_pem: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO instance_actor (id, public_key_pem, private_key_pem, created_at)
         VALUES (1, $1, $2, $3) ON CONFLICT(id) DO NOTHING",
    )
    .bind(public_key_pem)
    .bind(private_key_pem)
    .bind(now_ms)
    .execute(db.inner())
    .await?;
    Ok(())
}

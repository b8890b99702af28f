/// A public key a remote actor publishes: its id and PEM.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActorKey {
    pub id: String,
    pub pem: String,
}

/// An image a post shows, as federated in `attachment`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub url: String,
    pub media_type: Option<String>,
    /// Alt text.
    pub alt: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

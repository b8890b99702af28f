/// A profile field as Mastodon shows it: a name and an HTML value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileField {
    pub name: String,
    pub value_html: String,
}

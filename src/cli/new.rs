//! `fedblog new`: the file of a new post.

use crate::{config::Config, domain::Handle};

pub fn run(config: &Config, author: &str, title: &str) -> anyhow::Result<i32> {
    let handle = Handle::parse(author)?;
    let today = chrono::Local::now().date_naive();
    let path = crate::content::new_post(&config.content, &handle, title, today)?;
    println!("{}", path.display());
    Ok(0)
}

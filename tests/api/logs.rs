//! The real binary's JSON log: each line logged while an activity is applied carries
//! that activity's id, so an operator can follow one activity through the log.

use serde_json::Value;

use crate::{
    helpers::{Server, eventually, server_folder},
    peer::TestPeer,
};

#[tokio::test]
async fn the_inbox_processors_log_lines_carry_the_activity_id() {
    let (dir, _content, port) = server_folder("");
    let server = Server::start_logging(dir.path(), port, &["--log-format", "json"], "info").await;
    let peer = TestPeer::start().await;
    let follow = peer.follow("solo-logged", &format!("http://localhost:{port}/@alice"));
    let id = follow["id"].as_str().unwrap().to_owned();
    let res = peer
        .post_signed(
            &reqwest::Client::new(),
            "solo-logged",
            &format!("{}/inbox", server.base),
            &follow,
        )
        .await;
    assert_eq!(res.status(), 202);

    let log = dir.path().join("server.log");
    let line = eventually(20, "the processor to log the new follower", || async {
        let text = std::fs::read_to_string(&log).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["fields"]["message"] == "new follower")
    })
    .await;
    server.terminate();
    // The line is inside the processor's span for this activity.
    assert_eq!(line["span"]["name"], "inbox_activity", "{line}");
    assert_eq!(line["span"]["ap_id"], id.as_str(), "{line}");
    assert_eq!(line["span"]["kind"], "Follow", "{line}");
    assert!(
        line["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["ap_id"] == id.as_str())),
        "{line}"
    );
}

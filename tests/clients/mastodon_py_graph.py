"""Mastodon.py follows a remote account from a running fedblog and reads the home
timeline: log in, search_v2 with resolve, account_follow, then (after the test has
the account accept and post, signalled by a line on stdin) account_relationships and
timeline_home. Prints one JSON object for the test.

usage: python mastodon_py_graph.py <base-url> <password> <actor-url>
"""

import json
import sys
import warnings

from mastodon import Mastodon

base, password, actor = sys.argv[1], sys.argv[2], sys.argv[3]
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    client_id, client_secret = Mastodon.create_app(
        "fedblog test", api_base_url=base, scopes=["read", "write", "follow"]
    )
    m = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        version_check_mode="created",
    )
    m.log_in("alice", password, allow_http=True, scopes=["read", "write", "follow"])
    found = m.search_v2(actor, resolve=True)
    account = found.accounts[0]
    asked = m.account_follow(account.id)
    sys.stdin.readline()
    now = m.account_relationships(account.id)[0]
    home = m.timeline_home()
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "resolved": account.uri,
    "requested": asked.requested,
    "following": now.following,
    "home": [s.content for s in home],
    "warnings": caught,
}))

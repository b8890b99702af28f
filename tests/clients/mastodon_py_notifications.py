"""Mastodon.py reads the author's notifications and markers from a running fedblog:
log in with the password, list notifications (all, and only follows), page with
limit, set and read the notifications marker. Prints one JSON object for the test.

usage: python mastodon_py_notifications.py <base-url> <password>
"""

import json
import sys
import warnings

from mastodon import Mastodon

base, password = sys.argv[1], sys.argv[2]
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    client_id, client_secret = Mastodon.create_app("fedblog test", api_base_url=base)
    m = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        version_check_mode="created",
    )
    m.log_in("alice", password, allow_http=True)
    everything = m.notifications()
    follows = m.notifications(types=["follow"])
    first = m.notifications(limit=2)
    rest = m.fetch_next(first)
    m.markers_set("notifications", everything[0].id)
    markers = m.markers_get("notifications")
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "types": [n.type for n in everything],
    "accounts": [n.account.acct for n in everything],
    "status_urls": [n.status.url if n.status else None for n in everything],
    "follows": [n.type for n in follows],
    "paged": [str(n.id) for n in first] + [str(n.id) for n in (rest or [])],
    "ids": [str(n.id) for n in everything],
    "marker": str(markers["notifications"].last_read_id),
    "warnings": caught,
}))

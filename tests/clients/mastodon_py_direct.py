"""Mastodon.py reads a direct message and answers it on a running fedblog: log in
with the password, find the direct mention (notifications), list the conversations
(conversations), answer with visibility direct (status_reply), read the thread
(status_context), list the conversations again and mark the conversation read
(conversations_read). Prints one JSON object for the test.

usage: python mastodon_py_direct.py <base-url> <password>
"""

import json
import sys
import warnings

from mastodon import Mastodon


def conversation(c):
    return {
        "id": str(c.id),
        "unread": c.unread,
        "accounts": [a.username for a in c.accounts],
        "last_status": str(c.last_status.id) if c.last_status else None,
    }


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
    m.log_in("alice", password, allow_http=True, scopes=["read", "write"])
    dm = m.notifications(types=["mention"])[0].status
    before = m.conversations()
    answer = m.status_reply(dm, "The sequel is coming in spring.", visibility="direct")
    context = m.status_context(dm.id)
    after = m.conversations()
    read = m.conversations_read(after[0].id)
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "mention": {"id": str(dm.id), "visibility": dm.visibility},
    "before": conversation(before[0]),
    "answer": {
        "id": str(answer.id),
        "visibility": answer.visibility,
        "in_reply_to_id": str(answer.in_reply_to_id),
    },
    "descendants": [str(s.id) for s in context.descendants],
    "after": conversation(after[0]),
    "read": conversation(read),
    "warnings": caught,
}, default=str))

"""Mastodon.py acts on a followed account's status from a running fedblog's home
timeline (its id is `s.<n>`): status, status_context, status_favourite,
status_reblog, status_reply, then status_unfavourite and status_unreblog; and asks
for a quote id, which is not a status (404). Prints one JSON object for the test.

usage: python mastodon_py_shape.py <base-url> <password> <content-to-find>
"""

import json
import sys
import warnings

from mastodon import Mastodon, MastodonNotFoundError

base, password, wanted = sys.argv[1], sys.argv[2], sys.argv[3]
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
    home = m.timeline_home()
    found = next(s for s in home if wanted in s.content)
    one = m.status(found.id)
    favourited = m.status_favourite(found.id)
    reblogged = m.status_reblog(found.id)
    reply = m.status_reply(found, "Well said!")
    context = m.status_context(found.id)
    unfavourited = m.status_unfavourite(found.id)
    unreblogged = m.status_unreblog(found.id)
    try:
        m.status("quote.999")
        quote = "found"
    except MastodonNotFoundError as e:
        quote = "404"
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "id": str(found.id),
    "same": one.content == found.content and str(one.id) == str(found.id),
    "favourited": favourited.favourited,
    "favourites_count": favourited.favourites_count,
    "reblogged": reblogged.reblogged if reblogged.reblog is None else reblogged.reblog.reblogged,
    "reply": {"in_reply_to_id": str(reply.in_reply_to_id), "id": str(reply.id),
              "mentions": [x.acct for x in reply.mentions]},
    "descendants": [str(s.id) for s in context.descendants],
    "unfavourited": unfavourited.favourited,
    "unreblogged": unreblogged.reblogged,
    "quote": quote,
    "warnings": caught,
}, default=str))

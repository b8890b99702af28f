"""Mastodon.py reads Mastodon 4.3's grouped notifications from a running fedblog:
log in with the password, list the groups (all, and two a page with fetch_next),
read one group and its accounts, count the unread groups, dismiss a group. Prints
one JSON object for the test.

usage: python mastodon_py_grouped.py <base-url> <password>
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
    everything = m.grouped_notifications()
    groups = everything.notification_groups
    # Two a page, following the Link header; a group reaching past a page comes
    # again on the next one with the same key.
    paged, page = {}, m.grouped_notifications(limit=2)
    while page and page.notification_groups:
        for g in page.notification_groups:
            paged.setdefault(g.group_key, g.type)
        page = m.fetch_next(page)
    likes = next(g for g in groups if g.type == "favourite")
    one = m.grouped_notification(likes.group_key)
    who = m.grouped_notification_accounts(likes.group_key)
    unread = m.unread_grouped_notifications_count()
    m.dismiss_grouped_notification(likes.group_key)
    after = m.grouped_notifications().notification_groups
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "types": [g.type for g in groups],
    "counts": [g.notifications_count for g in groups],
    "paged": list(paged.values()),
    "one": one.notification_groups[0].notifications_count,
    "who": [a.acct for a in who],
    "unread": unread,
    "after_dismiss": [g.type for g in after],
    "warnings": caught,
}))

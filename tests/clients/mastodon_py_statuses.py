"""Mastodon.py posts, answers, edits, favourites and deletes statuses on a running
fedblog: log in with the password, answer the newest mention (status_reply), post
an unlisted note with a content warning (status_post), edit it (status_update), read
the comment's thread (status_context), favourite the comment (status_favourite),
read the local timeline (timeline_local) and delete the note (status_delete).
Prints one JSON object for the test.

usage: python mastodon_py_statuses.py <base-url> <password>
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
    m.log_in("alice", password, allow_http=True, scopes=["read", "write"])
    comment = m.notifications(types=["mention"])[0].status
    reply = m.status_reply(comment, "Thank you for reading!")
    note = m.status_post(
        "A short note #fromanapp", visibility="unlisted", spoiler_text="about apps", language="en"
    )
    edited = m.status_update(note.id, "A short note, edited")
    history = m.status_history(note.id)
    context = m.status_context(comment.id)
    favourited = m.status_favourite(comment.id)
    local = m.timeline_local()
    deleted = m.status_delete(note.id)
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "comment": str(comment.id),
    "reply": {
        "id": str(reply.id),
        "in_reply_to_id": str(reply.in_reply_to_id),
        "content": reply.content,
        "url": reply.url,
        "mentions": [x.acct for x in reply.mentions],
    },
    "note": {"visibility": note.visibility, "spoiler_text": note.spoiler_text, "tags": [t.name for t in note.tags]},
    "edited": {"content": edited.content, "edited": edited.edited_at is not None},
    "history": len(history),
    "descendants": [str(s.id) for s in context.descendants],
    "ancestors": [str(s.id) for s in context.ancestors],
    "favourited": favourited.favourited,
    "local": [str(s.id) for s in local],
    "deleted_text": deleted.text,
    "warnings": caught,
}, default=str))

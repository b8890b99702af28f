"""Mastodon.py uploads an image as an app does before posting it: `media_post` with a
description and a focus point (multipart, to /api/v2/media), then `media_update`
changes the description, and `status_post` posts a note with it. Prints one JSON object for the test to check.

usage: python mastodon_py_media.py <base-url> <password> <image-file>
"""

import json
import sys
import warnings

from mastodon import Mastodon

base, password, path = sys.argv[1], sys.argv[2], sys.argv[3]
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    client_id, client_secret = Mastodon.create_app(
        "fedblog test", api_base_url=base, scopes=["read", "write"]
    )
    m = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        version_check_mode="created",
    )
    m.log_in("alice", password, allow_http=True, scopes=["read", "write"])
    # As bytes: given a path, Mastodon.py 2.3.3 leaves the file open (a ResourceWarning).
    with open(path, "rb") as f:
        data = f.read()
    media = m.media_post(
        data,
        mime_type="image/png",
        file_name="square.png",
        description="A red rectangle",
        focus=(0.25, -0.5),
    )
    updated = m.media_update(media, description="A red rectangle, wider than high")
    note = m.status_post("A note with a picture", media_ids=[media])
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "type": media.type,
    "description": media.description,
    "url": media.url,
    "width": media.meta.original.width,
    "focus": [media.meta.focus.x, media.meta.focus.y],
    "updated_description": updated.description,
    "note_media": [[a.id, a.description] for a in note.media_attachments],
    "media_id": media.id,
    "warnings": caught,
}))

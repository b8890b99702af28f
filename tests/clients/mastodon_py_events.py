"""Mastodon.py follows statuses live on a running fedblog: log in with the password,
open `stream_user`, `stream_local` and `stream_hashtag("streams")` (server-sent
events, found through the instance's `urls.streaming_api`), print `ready` once each
server's opening comment arrived, then collect what arrives until the user stream has
seen an update, an edit and a delete, and print it as one JSON object for the test.

usage: python mastodon_py_events.py <base-url> <password>
"""

import json
import os
import sys
import threading
import warnings

from mastodon import Mastodon, StreamListener

base, password = sys.argv[1], sys.argv[2]
NAMES = ("user", "local", "hashtag")
got = {name: [] for name in NAMES}
connected = {name: threading.Event() for name in NAMES}
done = threading.Event()


class Listener(StreamListener):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def note(self, event, value):
        got[self.name].append([event, value])
        if len([e for e, _ in got["user"]]) >= 3:
            done.set()

    def on_update(self, status):
        self.note("update", {"id": str(status.id), "content": status.content})

    def on_status_update(self, status):
        self.note("status.update", {"id": str(status.id), "content": status.content})

    def on_delete(self, status_id):
        self.note("delete", str(status_id))

    def handle_heartbeat(self):
        connected[self.name].set()


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
    m.stream_user(Listener("user"), run_async=True)
    m.stream_local(Listener("local"), run_async=True)
    m.stream_hashtag("streams", Listener("hashtag"), run_async=True)
    for name in NAMES:
        connected[name].wait(15)
    ready = all(c.is_set() for c in connected.values())
    print("ready" if ready else "not connected", flush=True)
    done.wait(20)
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({"got": got, "warnings": caught}), flush=True)
# No close(): it joins the reader threads, which wait for the next keep-alive.
os._exit(0)

"""Mastodon.py streams the author's notifications from a running fedblog: log in with
the password, `stream_user` (server-sent events on /api/v1/streaming/user, found
through the instance's `urls.streaming_api`) with a listener, print `ready` once the
server's opening comment arrived, then
wait for one notification and print it as one JSON object for the test.

usage: python mastodon_py_streaming.py <base-url> <password>
"""

import json
import os
import sys
import threading
import warnings

from mastodon import Mastodon, StreamListener

base, password = sys.argv[1], sys.argv[2]
got = []
arrived = threading.Event()
connected = threading.Event()


class Listener(StreamListener):
    def on_notification(self, notification):
        got.append(notification)
        arrived.set()

    def handle_heartbeat(self):
        connected.set()


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
    handle = m.stream_user(Listener(), run_async=True)
    # The server's first comment line says the stream is up.
    connected.wait(15)
    print("ready" if connected.is_set() else "not connected", flush=True)
    arrived.wait(15)
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

n = got[0] if got else None
print(json.dumps({
    "type": n.type if n else None,
    "account": n.account.acct if n else None,
    "status_url": n.status.url if n and n.status else None,
    "warnings": caught,
}), flush=True)
# No handle.close(): it joins the reader thread, which waits for the next keep-alive.
os._exit(0)

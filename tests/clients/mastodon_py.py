"""Mastodon.py against a running fedblog, as an app would use it: register, log in
with the author's password (the library reads the authorization server's metadata
first and refuses the password grant unless it is listed), read the signed-in
account and the instance. Prints one JSON object for the test to check.

usage: python mastodon_py.py <base-url> <password>
"""

import json
import sys
import warnings

from mastodon import Mastodon

base, password = sys.argv[1], sys.argv[2]
caught = []
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
    me = m.account_verify_credentials()
    instance = m.instance()
    caught = [str(x.message) for x in w if "fedblog" not in str(x.filename)]

print(json.dumps({
    "acct": me.acct,
    "source_privacy": me.source.privacy,
    "version": instance.version,
    "api_version": m.mastodon_api_version,
    "warnings": caught,
}))

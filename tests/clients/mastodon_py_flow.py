"""Drive a running Stoa with Mastodon.py the way an app does.

Usage: python mastodon_py_flow.py BASE_URL

Signs two users in (one through the browser authorization-code flow, one
with the password grant), posts, follows, reads the home timeline and
notifications. Exits non-zero with a message on the first mismatch.
"""

import struct
import sys
import uuid
import zlib

import requests
from mastodon import Mastodon

import browser

BASE = sys.argv[1].rstrip("/")
SCOPES = ["read", "write", "follow"]


def png(width, height):
    """A small gradient PNG, made without image libraries."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


def browser_login(client_id, client_secret, email, password):
    """The authorization-code flow through the HTML sign-in and consent pages."""
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=BASE)
    url = api.auth_request_url(scopes=SCOPES, redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    code = browser.out_of_band_code(url, email, password)
    api.log_in(code=code, scopes=SCOPES, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    return api


def main():
    suffix = uuid.uuid4().hex[:8]
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py flow", api_base_url=BASE, scopes=SCOPES + ["push"]
    )
    alice_name, bob_name = f"alice{suffix}", f"bob{suffix}"
    browser.register(BASE, alice_name, "correct horse battery")
    browser.register(BASE, bob_name, "correct horse battery")

    alice = browser_login(client_id, client_secret, f"{alice_name}@example.test", "correct horse battery")
    bob = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=BASE)
    bob.log_in(f"{bob_name}@example.test", "correct horse battery", scopes=SCOPES)

    me = alice.account_verify_credentials()
    check(me.username == alice_name, f"verify_credentials username {me.username}")
    check(me.acct == alice_name, "local acct must be the bare username")

    instance = alice.instance()
    check(alice.verify_minimum_version("4.0.0", cached=False), f"version {instance.version} not parsed as >= 4.0.0")

    bob_status = bob.status_post(f"Hello from Bob #stoa{suffix}", visibility="public")
    check(bob_status.content.startswith("<p>Hello from Bob"), "content rendered")
    check(bob_status.tags[0].name == f"stoa{suffix}", "hashtag parsed")

    bob_account = alice.account_lookup(bob_name)
    relationship = alice.account_follow(bob_account.id)
    check(relationship.following, "follow")

    home = alice.timeline_home()
    check(any(status.id == bob_status.id for status in home), "followed account's post in home timeline")

    notifications = bob.notifications()
    check(
        any(n.type == "follow" and n.account.acct == alice_name for n in notifications),
        "follow notification",
    )

    reply = alice.status_post(f"@{bob_name} nice!", in_reply_to_id=bob_status.id)
    check(reply.mentions[0].acct == bob_name, "mention parsed")
    check(f'href="{reply.mentions[0].url}"' in reply.content, "mention link matches mentions[].url")
    alice.status_favourite(bob_status.id)
    kinds = {n.type for n in bob.notifications()}
    check({"follow", "mention", "favourite"} <= kinds, f"notification kinds {kinds}")

    context = bob.status_context(bob_status.id)
    check([s.id for s in context.descendants] == [reply.id], "context descendants")

    # Pagination through Link headers, as Mastodon.py's fetch_next does.
    for index in range(5):
        alice.status_post(f"numbered {index}")
    page = alice.account_statuses(me.id, limit=2)
    check(len(page) == 2, "first page")
    second = alice.fetch_next(page)
    check(second is not None and len(second) == 2, "second page")
    check(second[0].id < page[-1].id, "second page is older")

    # A picture with a description, as an app posts it: v2 upload, wait, attach.
    media = alice.media_post(png(48, 32), mime_type="image/png", description="A gradient", synchronous=True)
    check(media.url, "media url once processed")
    posted = alice.status_post("With a picture", media_ids=[media.id])
    attachment = posted.media_attachments[0]
    check(attachment.description == "A gradient", "attachment description")
    check(attachment.blurhash, "attachment blurhash")
    check(attachment.meta.original.width == 48, "attachment size")
    again = bob.status(posted.id)
    check(again.media_attachments[0].url == attachment.url, "others see the attachment")

    print("Mastodon.py flow: ok")


if __name__ == "__main__":
    main()

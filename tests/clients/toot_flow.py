"""Drive a running Stoa with the `toot` CLI exactly as a person would:
`toot login` (the browser flow: toot prints a URL, the person signs in and
authorises in the browser, then pastes the code), then post and read.

Usage: python toot_flow.py BASE_URL TOOT_EXECUTABLE
"""

import os
import subprocess
import sys
import tempfile
import uuid

import requests

import browser

BASE = sys.argv[1].rstrip("/")
TOOT = sys.argv[2]
PASSWORD = "correct horse battery"


def fail(message):
    print("FAILED:", message)
    sys.exit(1)


def main():
    username = f"tooter{uuid.uuid4().hex[:8]}"
    browser.register(BASE, username, PASSWORD)
    env = dict(os.environ, XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="toot-config-"))

    login = subprocess.Popen(
        [TOOT, "login", "-i", BASE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = None
    for line in login.stdout:
        if line.startswith(BASE) and "/oauth/authorize" in line:
            url = line.strip()
            break
    if url is None:
        login.kill()
        fail("toot printed no login URL")
    code = browser.out_of_band_code(url, f"{username}@example.test", PASSWORD)
    # "Open link in default browser? [Y/n]" then "Authorization code:".
    output, _ = login.communicate(f"n\n{code}\n", timeout=60)
    if login.returncode != 0 or "Successfully logged in" not in output:
        fail(f"toot login: exit {login.returncode}\n{output}")

    def toot(*args):
        done = subprocess.run([TOOT, *args], capture_output=True, text=True, env=env, timeout=60)
        if done.returncode != 0:
            fail(f"toot {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done.stdout

    whoami = toot("whoami")
    if f"@{username}" not in whoami:
        fail(f"whoami does not name @{username}:\n{whoami}")
    text = f"Posted with toot {uuid.uuid4().hex[:6]}"
    toot("post", text)
    timeline = toot("timeline", "--once")
    if text not in timeline:
        fail(f"own post missing from home timeline:\n{timeline}")
    statuses = requests.get(f"{BASE}/api/v1/timelines/public?local=true").json()
    if not any(text in status["content"] for status in statuses):
        fail("post missing from the local public timeline")
    print("toot flow: ok")


if __name__ == "__main__":
    main()

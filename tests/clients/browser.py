"""What a person does in a browser during OAuth sign-in, done with requests:
open the authorize URL, fill in the sign-in form, press Authorize."""

import html.parser
import urllib.parse

import requests


class _FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action")
        if tag == "input" and attrs.get("name") and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def _form_of(page):
    parser = _FormParser()
    parser.feed(page)
    if not parser.action:
        raise AssertionError("page has no form:\n" + page[:500])
    return parser.action, parser.fields


def authorize(url, login, password):
    """Sign in and approve; return the response to the consent form
    (the out-of-band code page, or the redirect to the app)."""
    browser = requests.Session()
    page = browser.get(url)
    if page.status_code != 200:
        raise AssertionError(f"authorize page answered {page.status_code}")
    action, fields = _form_of(page.text)
    fields.update({"username": login, "password": password})
    consent = browser.post(urllib.parse.urljoin(url, action), data=fields)
    if consent.status_code != 200 or "Authorize" not in consent.text:
        raise AssertionError(f"consent page not shown ({consent.status_code})")
    action, fields = _form_of(consent.text)
    fields["decision"] = "approve"
    return browser.post(urllib.parse.urljoin(url, action), data=fields, allow_redirects=False)


def out_of_band_code(url, login, password):
    """The code shown for redirect_uri urn:ietf:wg:oauth:2.0:oob."""
    shown = authorize(url, login, password)
    if shown.status_code != 200 or '<code id="code">' not in shown.text:
        raise AssertionError(f"no code shown ({shown.status_code})")
    return shown.text.split('<code id="code">', 1)[1].split("</code>", 1)[0]


def register(base, username, password):
    """Register through the API with an app's client_credentials token, as toot does."""
    app = requests.post(
        f"{base}/api/v1/apps",
        json={"client_name": "registration", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    ).json()
    token = requests.post(
        f"{base}/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    ).json()["access_token"]
    response = requests.post(
        f"{base}/api/v1/accounts",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "username": username,
            "email": f"{username}@example.test",
            "password": password,
            "agreement": True,
            "locale": "en",
        },
    )
    if response.status_code != 200:
        raise AssertionError(f"registration: {response.status_code} {response.text}")
    return response.json()["access_token"]

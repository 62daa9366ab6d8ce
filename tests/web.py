"""A tiny HTTP client over urllib with cookies and CSRF, for tests against real servers."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class WebSession:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _csrf(self) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")

    def request(self, method: str, path: str, data: dict | None = None, *, as_json: bool = False,
                headers: dict[str, str] | None = None) -> Answer:
        body, all_headers = None, {"X-CSRFToken": self._csrf(), "Referer": self.base_url + "/", **(headers or {})}
        if data is not None and as_json:
            body, all_headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=all_headers)
        try:
            with self.opener.open(request, timeout=30) as answer:
                return Answer(answer.status, answer.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read())

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None, **kwargs: object) -> Answer:
        return self.request("POST", path, data if data is not None else {}, **kwargs)  # type: ignore[arg-type]

    def login(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "login page has no CSRF token"
        answer = self.post("/accounts/login/", {"username": username, "password": password,
                                                "csrfmiddlewaretoken": token.group(1).decode()})
        assert answer.status == 200 and b"Log out" in answer.body, f"login as {username} failed ({answer.status})"

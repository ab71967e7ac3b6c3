"""The month-end rush, as locust users: township clerks entering visits through the real pages and
offices reading their lists. Run by bench/month_end.py, which writes the plan this file reads
($BENCH_PLAN: logins, each clerk's households, each office's pages) and reads back what the clients
saw ($BENCH_RESULTS: every request's time and status, the saves each clerk was told of).

Runs in .venv-bench (locust), not in the app's venv: it imports nothing from the project.
"""

import datetime
import json
import os
import re
import time
from collections import defaultdict
from html.parser import HTMLParser
from itertools import count

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(open(os.environ["BENCH_PLAN"], encoding="utf-8").read())
# A clerk presses 保存 twice on one save in this many (the second press must write nothing).
DOUBLE_PRESS_EVERY = int(os.environ.get("BENCH_DOUBLE_PRESS_EVERY", "20"))
MODES = ["入户走访", "电话", "座谈"]  # one visit per cadre, household, day and mode

_all_saves = count(1)  # across the clerks: each saves only ~10 times in 3 minutes
_clerks = iter(PLAN["clerks"])
_offices = iter(PLAN["offices"])
_seen = {"saved": 0, "pressed twice": 0, "told replayed": 0, "refused": 0, "unclear": 0}
_timings = defaultdict(list)  # request kind -> [ms]
_statuses = defaultdict(lambda: defaultdict(int))  # request kind -> status -> count
_failures = defaultdict(int)
_clock = {}


@events.request.add_listener
def _record(name, response_time, response, exception, **_kwargs):
    _timings[name].append(response_time)
    _statuses[name][getattr(response, "status_code", 0) or 0] += 1
    if exception:
        _failures[name] += 1


@events.test_start.add_listener
def _started(**_kwargs):
    _clock["start"] = time.time()


@events.test_stop.add_listener
def _stopped(**_kwargs):
    _clock["stop"] = time.time()
    with open(os.environ["BENCH_RESULTS"], "w", encoding="utf-8") as out:
        json.dump(
            {
                "seconds": _clock["stop"] - _clock.get("start", _clock["stop"]),
                "seen": _seen,
                "timings": _timings,
                "statuses": {name: dict(codes) for name, codes in _statuses.items()},
                "failures": _failures,
            },
            out,
        )


class FormFields(HTMLParser):
    """What a browser would send for the first <form method="post">: inputs, checked boxes,
    selected options (else the first), textareas."""

    def __init__(self):
        super().__init__()
        self.fields, self._in_form, self._select, self._first_option, self._textarea = (
            {},
            False,
            None,
            {},
            None,
        )

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post" and not self._in_form:
            self._in_form = True
        if not self._in_form or (tag != "form" and not attrs.get("name") and tag != "option"):
            return
        name = attrs.get("name")
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, attrs.get("value", ""))
            if "selected" in attrs:
                self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


class TownshipClerk(HttpUser):
    """A township clerk copying the paper diaries in: lookup, form, save, the household's timeline.

    A fast typist: 10-20 s to type a diary's date, mode, tasks and text once the household is
    chosen, 2-5 s to turn to the next page, so one save every ~20 s per clerk (two a second
    from 40 clerks, 7,000 an hour): a month's diaries of a township in an afternoon."""

    fixed_count = len(PLAN["clerks"])
    wait_time = between(2, 5)  # turning to the next page of the diary
    typing = between(10, 20)

    def on_start(self):
        self.plan = next(_clerks)
        self.households = iter(self.plan["households"])
        self.saves = count(1)
        login(self, self.plan["username"], PLAN["password"])

    @task
    def enter_visit(self):
        household = next(self.households, None)
        number = next(self.saves)
        if household is None or number > PLAN["saves_per_clerk"]:
            raise StopUser()  # count-bounded: a clerk's pile of diaries is finite
        form = self.client.get("/visits/new/", name="visit form")
        fields = form_fields(form.text)
        found = self.client.get(
            "/households/lookup/", params={"q": household["name"]}, name="household lookup"
        ).json()["results"]
        # A common name answers with several households: the clerk picks the one on paper (the
        # answers are capped, so a clerk with a very common name types the ID tail instead).
        if household["id"] not in [row["id"] for row in found]:
            self.client.get("/households/lookup/", params={"q": household["tail"]}, name="household lookup")
        today = datetime.date.today().isoformat()
        self.client.get(
            f"/visits/new/responsible/{household['id']}/", params={"on": today}, name="responsible cadre"
        )
        gevent.sleep(self.typing())  # typing the diary
        fields |= {
            "household": str(household["id"]),
            "cadre": "",  # the household's responsible cadre
            "visited_on": today,
            "mode": MODES[number % len(MODES)],
            "diary": f"月末集中录入：了解{household['name']}户近况，宣讲政策。",
            "task_policy": "on",
            "task_opinion": "on",
        }
        press = self.client.post("/visits/new/", data=fields, name="visit save", allow_redirects=False)
        twice = next(_all_saves) % DOUBLE_PRESS_EVERY == 0
        if twice:  # a double click: the same form again, which must land on the same page
            _seen["pressed twice"] += 1
            self.client.post(
                "/visits/new/", data=fields, name="visit save (second press)", allow_redirects=False
            )
        if press.status_code != 302:
            _seen["refused"] += 1  # the form again, with its error: nothing claimed saved
            return
        # Both presses' messages show on the page the first one lands on.
        timeline = self.client.get(press.headers["Location"], name="household timeline").text
        if "已保存" in timeline:
            _seen["saved"] += 1
        else:
            _seen["unclear"] += 1
        if twice and "重复的提交未再保存" in timeline:
            _seen["told replayed"] += 1


class Office(HttpUser):
    """A county, city or province office reading its lists at month end."""

    fixed_count = len(PLAN["offices"])
    wait_time = between(2, 5)

    def on_start(self):
        self.plan = next(_offices)
        self.pages = self.plan["pages"]
        self.turn = count()
        login(self, self.plan["username"], PLAN["password"])

    @task
    def read_list(self):
        label, url = self.pages[next(self.turn) % len(self.pages)]
        self.client.get(url, name=f"office: {label}")


def login(user, username, password):
    page = user.client.get("/accounts/login/", name="login page")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = user.client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        name="login",
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise StopUser()

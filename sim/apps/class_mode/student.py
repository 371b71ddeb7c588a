"""The student's page in class mode: a plain HTML form, light on a phone, served from the
teacher's machine with no script and nothing fetched from elsewhere.

``GET /student`` shows the form, filled in with the student's latest submission if they have
one (a page that drops and comes back keeps it: the student is the key in a cookie).
``POST /student`` reads the form through :func:`sim.apps.class_mode.submission.read` and keeps it in the
class's store; a refusal comes back on the same page with its reason and the values as typed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sim.apps.class_mode.classroom import Classroom, current
from sim.apps.class_mode.store import Record, is_student, new_student
from sim.apps.class_mode.submission import (
    BY_KEY,
    NAME_LENGTH,
    PLAN_WORDS,
    ClassRules,
    Refused,
    allowed,
    defaults,
)

COOKIE = "sim_student"
MAX_FORM = 8 * 1024  # bytes: the form is about 300
PATH = "/student"


def form_values(values: Mapping) -> dict[str, str]:
    """A submission's (or the defaults') values as the form shows them: shares in per cent."""
    shown = {}
    for key, value in values.items():
        control = BY_KEY.get(key)
        if control is not None and control.kind == "percent":
            value = round(float(value) * 100, 6)
        shown[key] = f"{value:g}" if isinstance(value, float) else str(value)
    return shown


def _field(key: str, rules: ClassRules, values: Mapping[str, str], error: Refused | None,
           note: str = "") -> str:
    control = BY_KEY[key]
    bad = error is not None and error.field == key
    value = html.escape(values.get(key, ""), quote=True)
    hint = html.escape(f"{allowed(control, rules)}{note}")
    return (f"<label class='{'bad' if bad else ''}'>{html.escape(control.label)}"
            f"<input name='{key}' value='{value}' inputmode='decimal' autocomplete='off'"
            f"{' aria-invalid=true' if bad else ''}><small>{hint}</small></label>")


def render(classroom: Classroom, values: Mapping[str, str], record: Record | None,
           error: Refused | None = None, sent: bool = False) -> str:
    """The whole page."""
    rules = classroom.rules
    plan = values.get("ask_plan", "spread")
    plans = "".join(
        f"<label class='choice'><input type='radio' name='ask_plan' value='{p}' id='plan-{p}'"
        f"{' checked' if p == plan else ''}> {html.escape(words)}</label>"
        for p, words in PLAN_WORDS.items())
    status = ""
    if error is not None:
        status += f"<p class='refused' role='alert'>Not submitted. {html.escape(str(error))}</p>"
    if record is not None:
        s = record.submission
        got = "Thank you: your strategy is in. " if sent and error is None else ""
        status += (f"<div class='yours'><p><b>{got}Your submission:</b> "
                   f"<span id='yours'>‘{html.escape(s.name)}’"
                   f"</span>, received {record.submitted[11:]}: {html.escape(s.describe())}.</p>"
                   f"<p>You can change it and submit again: your latest submission counts.</p>")
        rank = classroom.rank_of(s.name)
        if rank:
            status += f"<p class='rank'>In the last tournament it ranked {rank[0]} of {rank[1]}.</p>"
        status += (f"<p><small>Try it at home: <code>{html.escape(s.command_line((*classroom.overrides, 'engine=vector'), classroom.seeds[0]))}</code>"
                   f"</small></p></div>")
    budget = (f"Every strategy has the same budget: up to {rules.budget_words()}. The teacher "
              f"runs them all on the same audience.")
    name = html.escape(values.get("name", ""), quote=True)
    name_bad = error is not None and error.field == "name"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Your strategy - class tournament</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40em; margin: 0 auto; padding: 1em;
       color: #222; line-height: 1.4; }}
h1 {{ font-size: 1.4em; }}
fieldset {{ border: 1px solid #ccc; border-radius: 6px; margin: 0 0 1em; padding: 0.5em 1em; }}
legend {{ font-weight: 600; }}
label {{ display: block; margin: 0.6em 0; }}
label.choice {{ margin: 0.3em 0; }}
input:not([type=radio]) {{ display: block; width: 100%; box-sizing: border-box; font-size: 1.1em;
       padding: 0.3em; margin-top: 0.2em; }}
small {{ color: #555; }}
label.bad input {{ border: 2px solid #c62828; background: #fff3f3; }}
.refused {{ background: #ffebee; border-left: 5px solid #c62828; padding: 0.6em; }}
.yours {{ background: #e8f5e9; border-left: 5px solid #2e7d32; padding: 0.2em 0.6em; }}
button {{ font-size: 1.2em; padding: 0.5em 1.5em; }}
code {{ word-break: break-all; }}
</style></head>
<body>
<h1>Design your posting strategy</h1>
<p>{html.escape(budget)}</p>
{status}
<form method="post" action="{PATH}" novalidate>
<fieldset><legend>Your strategy's name</legend>
<label class='{'bad' if name_bad else ''}'>Name<input name="name" value="{name}" maxlength="{NAME_LENGTH}"
 autocomplete="off"{' aria-invalid=true' if name_bad else ''}><small>1 to {NAME_LENGTH} letters,
 digits or spaces, starting with a letter or digit; it appears in the standings</small></label>
</fieldset>
<fieldset><legend>Posts and asks</legend>
{_field("posts_per_day", rules, values, error)}
{_field("asks", rules, values, error)}
</fieldset>
<fieldset><legend>When the asks go out</legend>
{plans}
{_field("ask_hour", rules, values, error, " (followers are online mostly in the day)")}
</fieldset>
<fieldset><legend>Bursts (only when the asks go out in bursts)</legend>
{_field("bursts", rules, values, error)}
{_field("first_burst_day", rules, values, error, " (day 0 is the first)")}
{_field("days_between", rules, values, error)}
{_field("burst_length", rules, values, error)}
{_field("value_in_bursts", rules, values, error, "; the rest spread over the days")}
</fieldset>
<fieldset><legend>Replies</legend>
{_field("reply_share", rules, values, error, " of the followers who reply to you get an answer")}
</fieldset>
<button type="submit">Submit my strategy</button>
</form>
</body></html>"""


def _with_cookie(response: Response, student: str) -> Response:
    response.set_cookie(COOKIE, student, max_age=60 * 60 * 24 * 30, httponly=True,
                        samesite="lax", path=PATH)
    return response


async def _body(request: Request) -> bytes | None:
    """The form as sent, or None if it is larger than a form can be (read no further)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    return body


async def student_page(request: Request) -> Response:
    classroom = current()
    student = request.cookies.get(COOKIE)
    known = is_student(student)
    student = student if known else new_student()
    record = classroom.store.get(student)
    if request.method == "GET":
        values = form_values(record.submission.to_json() if record else defaults(classroom.rules))
        page = render(classroom, values, record, sent=request.query_params.get("sent") == "1")
        return _with_cookie(HTMLResponse(page), student)
    body = await _body(request)
    if body is None:
        error = Refused("", f"The form is too large (at most {MAX_FORM:,} bytes).")
        form: dict[str, str] = {}
    else:
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        try:
            classroom.submit(student, form)
            return _with_cookie(RedirectResponse(f"{PATH}?sent=1", status_code=303), student)
        except Refused as refused:
            error = refused
        except OSError as failed:  # a full disk, say: the student is told, the class goes on
            error = Refused("", f"The teacher's machine could not save it: "
                                f"{failed.strerror or failed}. Try again in a moment.")
    # an answer, not a failure: the page says why (a 4xx status is an error in the console)
    page = render(classroom, form, record, error=error)
    return _with_cookie(HTMLResponse(page), student)


app = Starlette(routes=[Route(PATH, student_page, methods=["GET", "POST"])])

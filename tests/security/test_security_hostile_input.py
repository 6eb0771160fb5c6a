"""Hostile input is refused with a clear problem+json, stores nothing, and slows nobody else down.

Template injection in every template field, webhook targets in private ranges (in every spelling)
and redirects to them, oversized and deeply nested bodies, malformed CSV and BPMN with entity
expansion and external entities. Each hostile request runs beside an ordinary request of another
tenant, which must be answered as usual (`beside_an_ordinary_caller`).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import pytest_asyncio
from security_api import As, settle
from security_stack import SERVICES, Receiver, ServiceStack, bearer

pytestmark = [pytest.mark.security, pytest.mark.integration]

PROBLEM = "application/problem+json"
MIB = 1024 * 1024


@dataclass
class Listener:
    """An HTTP server on 127.0.0.1 that nothing may ever reach: it keeps whatever does."""

    port: int = 0
    hits: list[str] = field(default_factory=list)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()

    class Handler(BaseHTTPRequestHandler):
        def _hit(self) -> None:
            found.hits.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _hit

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Ground:
    admin: As
    other: As  # an ordinary caller of another tenant
    type_id: str
    pipeline_id: str
    stage_id: str


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ground(stack: ServiceStack) -> AsyncIterator[Ground]:
    async with httpx.AsyncClient(timeout=60) as http:
        run = uuid.uuid4().hex[:6]
        admin = As(stack, http, f"hostile-{run}", "root", ("admin",))
        other = As(stack, http, f"bystander-{run}", "someone", ())
        deal = await admin.ok("entities", "POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
        listed = await settle(  # a 404 until pipelines hears of the type
            lambda: admin.call("pipelines", "GET", "/v1/pipelines", params={"entity_type_id": deal["id"]}),
            lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        )
        (pipeline,) = listed.json()["items"]
        yield Ground(admin, other, deal["id"], pipeline["id"], pipeline["stages"][0]["id"])


async def beside_an_ordinary_caller(ground: Ground, service: str, hostile: Awaitable[httpx.Response]) -> httpx.Response:
    """The hostile request's answer, once an ordinary request sent while it ran was answered too."""

    async def ordinary() -> httpx.Response:
        await asyncio.sleep(0.01)  # sent while the hostile one is being read or refused
        return await ground.other.http.get(
            ground.other.stack.urls[service] + "/v1/whoami", headers=bearer(ground.other.tenant, "someone"), timeout=10
        )

    answer, bystander = await asyncio.gather(hostile, ordinary())
    assert bystander.status_code == 200, f"an ordinary caller of {service} was not served: {bystander.status_code}"
    return answer


def assert_refused(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == response.status_code and problem["title"]
    return problem


TEMPLATE_ATTACKS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{% for a in 'xxxxxxxxxx' %}" * 8 + "boom" + "{% endfor %}" * 8,
    "{% for x in range(1000000000) %}{% endfor %}",
    "{{ range(100000000) | list }}",
]
ROBOT_TEMPLATE_FIELDS = [
    ("notify", "body", {"recipients": [{"kind": "assignee"}], "body": "ok"}),
    ("notify", "title", {"recipients": [{"kind": "assignee"}], "body": "ok", "title": "ok"}),
    ("send_email", "subject", {"addresses": ["a@example.test"], "subject": "ok", "body": "ok"}),
    ("send_email", "body", {"addresses": ["a@example.test"], "subject": "ok", "body": "ok"}),
    ("create_task", "title", {"title": "ok"}),
    ("create_task", "description", {"title": "ok", "description": "ok"}),
    ("create_item", "title", {"entity_type_id": "t", "title": "ok"}),
    ("create_calendar_entry", "title", {"title": "ok"}),
    ("create_calendar_entry", "description", {"title": "ok", "description": "ok"}),
]


class TestTemplateInjection:
    @pytest.mark.parametrize("attack", TEMPLATE_ATTACKS)
    async def test_every_robot_template_field_refuses_it(self, ground: Ground, attack: str) -> None:
        for action_type, template_field, action in ROBOT_TEMPLATE_FIELDS:
            body = {
                "pipeline_id": ground.pipeline_id,
                "stage_id": ground.stage_id,
                "name": f"{action_type}.{template_field}",
                "action": {"type": action_type, **action, template_field: attack},
            }
            answer = await beside_an_ordinary_caller(
                ground, "automation", ground.admin.call("automation", "POST", "/v1/robots", body)
            )
            problem = assert_refused(answer, 422)
            assert any(e["field"].endswith(template_field) for e in problem["errors"]), problem

        stored = await ground.admin.ok("automation", "GET", "/v1/robots", params={"pipeline_id": ground.pipeline_id})
        assert stored["items"] == []

    @pytest.mark.parametrize("attack", TEMPLATE_ATTACKS)
    @pytest.mark.parametrize("part", ["subject", "text", "html"])
    async def test_every_notification_template_part_refuses_it(self, ground: Ground, attack: str, part: str) -> None:
        template_id = f"t-{uuid.uuid4().hex[:6]}"
        variant = {"subject": "s", "text": "t", part: attack}
        answer = await beside_an_ordinary_caller(
            ground,
            "notifications",
            ground.admin.call(
                "notifications",
                "PUT",
                f"/v1/templates/{template_id}",
                {"name": "x", "variables": [], "variants": {"en": variant}},
            ),
        )

        assert assert_refused(answer, 422)["type"].endswith("/template-refused")
        assert (await ground.admin.call("notifications", "GET", f"/v1/templates/{template_id}")).status_code == 404


PRIVATE_TARGETS = [
    "http://127.0.0.1:{port}/",
    "http://127.1:{port}/",  # short form
    "http://2130706433:{port}/",  # decimal
    "http://0177.0.0.1:{port}/",  # octal
    "http://0x7f.0.0.1:{port}/",  # hexadecimal
    "http://localhost:{port}/",  # a name resolving to loopback
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",  # IPv4-mapped IPv6
    "http://0.0.0.0:{port}/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://user:secret@hooks.example/",  # credentials in the URL
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/",
]


class TestWebhookTargets:
    async def test_private_targets_in_every_spelling_are_refused_and_not_stored(
        self, ground: Ground, listener: Listener
    ) -> None:
        for template in PRIVATE_TARGETS:
            url = template.format(port=listener.port)
            answer = await beside_an_ordinary_caller(
                ground,
                "notifications",
                ground.admin.call(
                    "notifications", "POST", "/v1/webhooks/subscriptions", {"url": url, "event_types": ["*"]}
                ),
            )
            assert_refused(answer, 422)

        stored = await ground.admin.ok("notifications", "GET", "/v1/webhooks/subscriptions")
        assert stored["items"] == [] and listener.hits == []

    async def test_a_robots_call_to_a_private_target_and_a_redirect_to_one_never_reach_it(
        self, ground: Ground, listener: Listener, receiver: Receiver
    ) -> None:
        # A robot may name any URL (the notifications service checks it when calling); the allowed
        # receiver answers every call under /redirect with a 302 to the listener on loopback.
        targets = [
            listener.url("/direct"),
            receiver.url(f"/redirect/{uuid.uuid4().hex[:6]}?to={listener.url('/redirected')}"),
        ]
        for n, url in enumerate(targets):
            await ground.admin.ok(
                "automation",
                "POST",
                "/v1/robots",
                {
                    "pipeline_id": ground.pipeline_id,
                    "stage_id": ground.stage_id,
                    "name": f"call {n}",
                    "action": {"type": "call_webhook", "url": url},
                },
            )
        await ground.admin.ok("entities", "POST", "/v1/items", {"entity_type_id": ground.type_id, "title": "Deal"})
        redirect_path = targets[1].split(str(receiver.port), 1)[1].split("?", 1)[0]

        # Both calls come through the robot timer, the command topic and the delivery retry; on a loaded CI
        # machine that took longer than 30 s once. It returns as soon as both arrive.
        redirected = await settle(lambda: _calls(receiver, redirect_path), lambda n: n >= 2, within=90)
        await asyncio.sleep(1)  # time for a wrongly followed redirect to land

        assert redirected >= 2, "the redirecting receiver was never called: the check could not fail"
        assert listener.hits == []


async def _calls(receiver: Receiver, path: str) -> int:
    return sum(1 for called, _, _ in list(receiver.calls) if called.split("?", 1)[0] == path)


# One JSON operation per service, for what the kit refuses before any handler runs.
POSTS = {
    "entities": ("POST", "/v1/items/search"),
    "pipelines": ("POST", "/v1/pipelines"),
    "automation": ("POST", "/v1/robots"),
    "notifications": ("POST", "/v1/calendar/entries"),
    "reporting": ("PUT", "/v1/stage-departments/any-stage"),
}


class TestBodies:
    @pytest.mark.parametrize("service", SERVICES)
    async def test_an_oversized_body_is_413_declared_or_streamed(self, ground: Ground, service: str) -> None:
        big = json.dumps({"title": "x" * (2 * MIB)}).encode()

        async def streamed() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        declared = await beside_an_ordinary_caller(
            ground,
            service,
            ground.admin.call(service, *POSTS[service], content=big, headers={"content-type": "application/json"}),
        )
        chunked = await beside_an_ordinary_caller(
            ground,
            service,
            ground.admin.call(
                service, *POSTS[service], content=streamed(), headers={"content-type": "application/json"}
            ),
        )

        assert assert_refused(declared, 413)["type"].endswith("/content-too-large")
        assert assert_refused(chunked, 413)["type"].endswith("/content-too-large")

    @pytest.mark.parametrize("service", SERVICES)
    async def test_deeply_nested_json_is_refused_not_a_recursion_error(self, ground: Ground, service: str) -> None:
        nested = b'{"a": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"

        answer = await beside_an_ordinary_caller(
            ground,
            service,
            ground.admin.call(service, *POSTS[service], content=nested, headers={"content-type": "application/json"}),
        )

        assert_refused(answer, 400, 422)

    async def test_an_item_with_an_oversized_title_is_not_stored(self, ground: Ground) -> None:
        body = {"entity_type_id": ground.type_id, "title": "big " + "x" * (2 * MIB)}

        answer = await ground.admin.call("entities", "POST", "/v1/items", body)

        assert_refused(answer, 413)
        listed = await ground.admin.ok(
            "entities", "GET", "/v1/items", params={"entity_type_id": ground.type_id, "q": "big"}
        )
        assert listed["items"] == []


MALFORMED_CSV = {
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
    "utf-16": "Title,Note\nä,b\n".encode("utf-16"),
    "a NUL byte": b"Title,Note\na\x00b,c\n",
    "an unterminated quote": b'Title,Note\n"a,b\nc,d\n',
    "a huge field": b"Title,Note\na," + b"x" * 300_000 + b"\n",
    "no header": b"",
}


class TestFiles:
    @pytest.mark.parametrize("kind", sorted(MALFORMED_CSV))
    async def test_malformed_csv_is_refused_with_the_reason(self, ground: Ground, kind: str) -> None:
        answer = await beside_an_ordinary_caller(
            ground,
            "entities",
            ground.admin.call(
                "entities",
                "POST",
                "/v1/imports/files?file_name=x.csv",
                content=MALFORMED_CSV[kind],
                headers={"content-type": "text/csv"},
            ),
        )

        problem = assert_refused(answer, 422)
        assert problem["errors"][0]["field"] == "/file" and problem["errors"][0]["message"]

    async def test_ragged_rows_are_reported_per_line_and_import_nothing_of_them(self, ground: Ground) -> None:
        upload = await ground.admin.ok(
            "entities",
            "POST",
            "/v1/imports/files?file_name=x.csv",
            content=b"Title,Note\nonly-title\ngood,row\nx,y,z,extra\n",
            headers={"content-type": "text/csv"},
        )
        report = await ground.admin.call(
            "entities",
            "POST",
            "/v1/imports/dry-run",
            {"file_id": upload["id"], "entity_type_id": ground.type_id, "mapping": {"Title": "title"}},
        )

        assert report.status_code < 500, report.text
        if report.status_code == 200:
            assert report.json()["rows"] == 3

    @pytest.mark.parametrize(
        "kind",
        ["not xml", "billion laughs", "external entity", "external dtd", "parameter entities", "too large"],
    )
    async def test_malformed_bpmn_is_refused_and_reads_no_file_or_url(
        self, ground: Ground, listener: Listener, kind: str
    ) -> None:
        bpmn = _hostile_bpmn(kind, listener)
        body = {"name": "Evil", "entity_type_id": ground.type_id, "bpmn": bpmn, "start": {"mode": "manual"}}

        answer = await beside_an_ordinary_caller(
            ground, "automation", ground.admin.call("automation", "POST", "/v1/process-templates", body)
        )

        assert_refused(answer, 413 if kind == "too large" else 422)
        assert "root:x:0:0" not in answer.text and listener.hits == []


_DEFINITIONS = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
    '<bpmn:process id="p" isExecutable="true" name="NAME"><bpmn:startEvent id="s"/></bpmn:process>'
    "</bpmn:definitions>"
)


def _hostile_bpmn(kind: str, listener: Listener) -> str:
    if kind == "not xml":
        return "<bpmn:definitions><unclosed>"
    if kind == "billion laughs":
        entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
        )
        return f'<?xml version="1.0"?><!DOCTYPE d [{entities}]>' + _DEFINITIONS.replace("NAME", "&j;")
    if kind == "external entity":
        return '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _DEFINITIONS.replace(
            "NAME", "&x;"
        )
    if kind == "external dtd":
        return f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "{listener.url("/evil.dtd")}">' + _DEFINITIONS.replace(
            "NAME", "&x;"
        )
    if kind == "parameter entities":
        return (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % ext SYSTEM "{listener.url("/ext.dtd")}"> %ext;]>'
            + _DEFINITIONS.replace("NAME", "p")
        )
    return _DEFINITIONS.replace("NAME", "x" * (3 * 1024 * 1024))

"""Conditions, the expression language, templates and robot timing: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from automation.domain import expressions, templates
from automation.domain.conditions import holds
from automation.domain.robots import RobotSpec, Timing
from pydantic import TypeAdapter, ValidationError

pytestmark = pytest.mark.unit

ITEM: dict[str, Any] = {
    "title": "Deal 7",
    "amount": "1500.00",
    "status": "in_progress",
    "industry": "housing",
    "tags": ["vip", "north"],
    "assignee_id": "u-1",
    "fields": {"status": "in_progress", "industry": "housing"},
}


def condition(raw: dict[str, Any]) -> Any:
    from automation.domain.conditions import Condition

    return TypeAdapter(Condition).validate_python(raw)


class TestDeclarativeConditions:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ({"field": "status", "op": "eq", "value": "in_progress"}, True),
            ({"field": "fields.industry", "op": "eq", "value": "housing"}, True),
            ({"field": "amount", "op": "gt", "value": 1000}, True),
            ({"field": "amount", "op": "lte", "value": "1000"}, False),
            ({"field": "status", "op": "in", "value": ["won", "in_progress"]}, True),
            ({"field": "status", "op": "not_in", "value": ["won"]}, True),
            ({"field": "tags", "op": "contains", "value": "vip"}, True),
            ({"field": "client_id", "op": "empty"}, True),
            ({"field": "title", "op": "not_empty"}, True),
            ({"field": "missing", "op": "gt", "value": 3}, False),
        ],
    )
    def test_a_field_is_compared_with_a_value(self, raw: dict[str, Any], expected: bool) -> None:
        assert holds(condition(raw), ITEM) is expected

    def test_all_any_and_not_combine_conditions(self) -> None:
        raw = {
            "all": [
                {"field": "industry", "value": "housing"},
                {
                    "any": [
                        {"field": "amount", "op": "gt", "value": 10_000},
                        {"field": "tags", "op": "contains", "value": "vip"},
                    ]
                },
                {"not": {"field": "status", "value": "lost"}},
            ]
        }
        assert holds(condition(raw), ITEM) is True
        assert holds(condition({"any": []}), ITEM) is False

    def test_no_condition_always_holds(self) -> None:
        assert holds(None, ITEM) is True

    def test_an_expression_condition_is_checked_when_saved(self) -> None:
        with pytest.raises(ValidationError, match="Call is not allowed"):
            condition({"expression": "__import__('os').system('id')"})


class TestExpressions:
    @pytest.mark.parametrize(
        ("source", "expected"),
        [
            ("amount > 1000 and industry == 'housing'", True),
            ("fields.status == 'in_progress'", True),
            ("fields['industry'] in ['housing', 'energy']", True),
            ("not client_id", True),
            ("amount * 2 >= 3000", True),
            ("tags[0] == 'vip'", True),
            ("'big' if amount > 1000 else 'small'", "big"),
            ("1 < amount < 2000", True),
            ("unknown.deeper == None", True),
        ],
    )
    def test_expressions_read_the_item(self, source: str, expected: Any) -> None:
        assert expressions.evaluate(source, ITEM) == expected

    @pytest.mark.parametrize(
        "attack",
        [
            "__import__('os').system('id')",
            "().__class__.__bases__[0].__subclasses__()",
            "title.__class__",
            "fields.__dict__",
            "_secret",
            "fields['__class__']",
            "open('/etc/passwd')",
            "[x for x in tags]",
            "lambda: 1",
            "title.upper()",
            "2 ** 100000000",
            "b'bytes'",
            "hours.__class__",
            "days(1).__class__",
            "days(1)['__class__']",
            "date(meeting_at).astimezone()",
            "print(1)",
            "getattr(days, '__globals__')",
            "hours()",
            "hours(1, 2)",
            "hours(x=1)",
            "days(10 ** 20)",
            "days(99999999999)",
            "date(meeting_at) + date(meeting_at)",
            "days(1) / 0",
            "date('not a date')",
        ],
    )
    def test_expressions_cannot_reach_the_host(self, attack: str) -> None:
        with pytest.raises(expressions.UnsafeExpression):
            expressions.evaluate(attack, ITEM)

    def test_text_cannot_be_multiplied_into_a_memory_bomb(self) -> None:
        with pytest.raises(expressions.UnsafeExpression):
            expressions.evaluate("title * 1000000000", ITEM)

    def test_a_key_starting_with_an_underscore_is_refused_at_run_time(self) -> None:
        with pytest.raises(expressions.UnsafeExpression):
            expressions.evaluate("fields[key]", {"fields": {"_x": 1}, "key": "_x"})


class TestDateArithmetic:
    DEAL: ClassVar[dict[str, Any]] = {
        **ITEM,
        "meeting_at": "2026-12-03T10:00:00+00:00",
        "next_call_at": "2026-12-01T10:00:00Z",
        "n": 2,
    }

    @pytest.mark.parametrize(
        ("source", "expected"),
        [
            ("meeting_at - hours(1)", "2026-12-03T09:00:00+00:00"),
            ("meeting_at + days(n)", "2026-12-05T10:00:00+00:00"),
            ("meeting_at - minutes(90) - seconds(30)", "2026-12-03T08:29:30+00:00"),
            ("days(1) + meeting_at", "2026-12-04T10:00:00+00:00"),
            ("meeting_at - weeks(1)", "2026-11-26T10:00:00+00:00"),
            ("date('2026-12-03') + hours(1.5)", "2026-12-03T01:30:00+00:00"),
            ("date('2026-12-03T12:00:00+02:00') - hours(1)", "2026-12-03T11:00:00+02:00"),
            ("date(meeting_at) - date(next_call_at)", "PT172800S"),
            ("days(1) * 2 - hours(1)", "PT169200S"),
            ("-hours(1)", "PT-3600S"),
            ("date(meeting_at) > date(next_call_at)", True),
            ("meeting_at - hours(1) > next_call_at", True),
            ("meeting_at - days(3) < next_call_at", True),
            ("date(meeting_at) == date('2026-12-03T12:00:00+02:00')", True),
            ("date(meeting_at) - date(next_call_at) > days(1)", True),
            ("date(meeting_at) - date(next_call_at) >= weeks(1)", False),
            ("date('2026-12-03') < meeting_at", True),
            ("date(meeting_at) > 5", False),
        ],
    )
    def test_instants_and_durations(self, source: str, expected: Any) -> None:
        assert expressions.evaluate(source, self.DEAL) == expected

    def test_a_missing_date_is_refused_at_run_time_not_guessed(self) -> None:
        with pytest.raises(expressions.UnsafeExpression):
            expressions.evaluate("nothing - hours(1)", self.DEAL)

    def test_an_instant_result_fits_a_timer(self) -> None:
        due = expressions.evaluate("meeting_at - hours(1)", self.DEAL)
        assert datetime.fromisoformat(due) == datetime(2026, 12, 3, 9, tzinfo=UTC)


class TestTemplates:
    def test_a_template_sees_the_item_and_its_people(self) -> None:
        text = templates.render(
            "{{ assignee.first_name }}, remind {{ item.client_name }} of yourself: {{ item.amount | default('?') }}",
            {"item": {"client_name": "Acme", "amount": "10"}, "assignee": {"first_name": "Olga"}, "os": "hidden"},
        )
        assert text == "Olga, remind Acme of yourself: 10"

    def test_loops_and_conditions_work(self) -> None:
        source = "{% for o in observers %}{{ o.name }}{% if not loop.last %}, {% endif %}{% endfor %}"
        assert templates.render(source, {"observers": [{"name": "A"}, {"name": "B"}]}) == "A, B"

    @pytest.mark.parametrize(
        "attack",
        [
            "{{ ''.__class__.__mro__ }}",
            "{{ item.__class__.__init__.__globals__ }}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
            "{{ self._TemplateReference__context }}",
            "{{ lipsum.__globals__['os'] }}",
            "{{ config }}",
            "{{ request }}",
            "{{ item['__class__'] }}",
            "{{ item.title.upper() }}",
            "{{ range(10) }}",
            "{% import 'os' as os %}",
            "{% include 'x.html' %}",
            "{% extends 'base' %}",
            "{% macro m() %}{% endmacro %}",
            "{% set x = item %}{{ x }}",
            "{{ item | attr('__class__') }}",
            "{{ item | map('upper') }}",
            "{{ '%s' % item }}",
            "{{ '__class__' }}",
            "{% raw %}ok{% endraw %}{{ joiner() }}",
        ],
    )
    def test_a_template_that_reaches_for_anything_else_is_refused(self, attack: str) -> None:
        with pytest.raises(templates.UnsafeTemplate):
            templates.check(attack)

    @pytest.mark.parametrize(
        "bomb",
        [
            "{% for a in 'xxxxxxxxxx' %}" * 7 + "y" + "{% endfor %}" * 7,  # ten million rounds over constants
            "{% for a in observers %}{% for b in observers %}{% endfor %}{% endfor %}",
            "{% for a in [1, 2, 3] %}{{ a }}{% endfor %}",
        ],
    )
    def test_loops_over_constants_or_inside_loops_are_refused(self, bomb: str) -> None:
        # Found by tests/security: a loop bomb rendered in the timer worker would stall the service.
        with pytest.raises(templates.UnsafeTemplate, match="loop"):
            templates.check(bomb)

    def test_a_refused_template_is_refused_every_time_it_is_used(self) -> None:
        # Checked and compiled templates are kept per source; a refusal must not be.
        attack = "{{ ''.__class__.__mro__ }}"
        for _ in range(3):
            with pytest.raises(templates.UnsafeTemplate):
                templates.check(attack)
            with pytest.raises(templates.UnsafeTemplate):
                templates.render(attack, {"item": {}})

    def test_a_kept_template_renders_each_callers_own_values(self) -> None:
        source = "{{ item.title }} for {{ assignee.name }}"
        assert templates.check(source) == source
        for title, name in (("Deal A", "Olga"), ("Deal B", "Ivan"), ("Deal C", "")):
            assignee = {"name": name} if name else {}
            assert templates.render(source, {"item": {"title": title}, "assignee": assignee}) == f"{title} for {name}"

    def test_a_render_stops_at_its_size_limit(self) -> None:
        with pytest.raises(templates.UnsafeTemplate, match="longer than"):
            templates.render("{% for c in item.title %}{{ item.title }}{% endfor %}", {"item": {"title": "x" * 1000}})

    def test_a_robot_with_such_a_template_is_refused_when_saved(self) -> None:
        with pytest.raises(ValidationError, match="not allowed"):
            RobotSpec.model_validate(
                {
                    "pipeline_id": "p",
                    "stage_id": "s",
                    "name": "n",
                    "action": {"type": "notify", "recipients": [{"kind": "assignee"}], "body": "{{ ''.__class__ }}"},
                }
            )


ENTERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TestTiming:
    def test_at_once_is_when_the_item_entered(self) -> None:
        assert Timing().due(entered_at=ENTERED, last_change_at=ENTERED, fields={}) == ENTERED

    def test_a_delay_counts_from_entering(self) -> None:
        due = Timing(mode="after_delay", seconds=3600).due(entered_at=ENTERED, last_change_at=ENTERED, fields={})
        assert due == ENTERED + timedelta(hours=1)

    def test_idle_counts_from_the_last_change(self) -> None:
        changed = ENTERED + timedelta(days=3)
        due = Timing(mode="idle", seconds=7 * 86400).due(entered_at=ENTERED, last_change_at=changed, fields={})
        assert due == ENTERED + timedelta(days=10)

    def test_before_and_after_a_date_field(self) -> None:
        fields = {"meeting_at": "2026-03-10T15:00:00Z", "deadline": "2026-03-20"}
        before = Timing(mode="before_field", seconds=3600, field="meeting_at")
        after = Timing(mode="after_field", seconds=86400, field="deadline")
        assert before.due(entered_at=ENTERED, last_change_at=ENTERED, fields=fields) == datetime(
            2026, 3, 10, 14, 0, tzinfo=UTC
        )
        assert after.due(entered_at=ENTERED, last_change_at=ENTERED, fields=fields) == datetime(
            2026, 3, 21, 0, 0, tzinfo=UTC
        )

    def test_an_empty_date_field_means_no_due_time(self) -> None:
        timing = Timing(mode="before_field", seconds=60, field="meeting_at")
        assert timing.due(entered_at=ENTERED, last_change_at=ENTERED, fields={"meeting_at": None}) is None

"""Custom values are checked per kind, normalised, and held to each field's rules."""

from __future__ import annotations

from typing import Any

import pytest
from conveyor_contracts.entities import FieldDefinition, Option
from entities.domain.entity_type import OptionDraft, check_field, merge_options
from entities.domain.errors import Invalid
from entities.domain.schema import TypeSchema
from entities.domain.values import BadValue, check_value

pytestmark = pytest.mark.unit

OPTIONS = [Option(id="o-imported", label="Imported"), Option(id="o-gone", label="Gone", hidden=True)]


def field(kind: str, **extra: Any) -> FieldDefinition:
    return FieldDefinition(field_id="f-1", code="value", label="Value", kind=kind, **extra)


class TestEveryKindAcceptsAndNormalises:
    @pytest.mark.parametrize(
        ("kind", "raw", "stored"),
        [
            ("string", "Ivan", "Ivan"),
            ("text", "line 1\nline 2", "line 1\nline 2"),
            ("integer", 42, 42),
            ("integer", " -7 ", -7),
            ("integer", 3.0, 3),
            ("decimal", "1234.50", "1234.50"),
            ("decimal", 0.25, "0.25"),
            ("money", {"amount": "12.5", "currency": "eur"}, {"amount": "12.5", "currency": "EUR"}),
            ("money", "300|RUB", {"amount": "300", "currency": "RUB"}),
            ("boolean", True, True),
            ("boolean", "no", False),
            ("date", "2026-01-31", "2026-01-31"),
            ("datetime", "2026-01-31T12:00:00+03:00", "2026-01-31T09:00:00+00:00"),
            ("user", "user-7", "user-7"),
            ("link", "item-1", "item-1"),
            ("url", "https://example.com/a?b=1", "https://example.com/a?b=1"),
            ("email", "Olga@Example.COM", "Olga@example.com"),
            ("phone", "+49 30 12345678", "+493012345678"),
        ],
    )
    def test_a_good_value_is_stored_in_normal_form(self, kind: str, raw: Any, stored: Any) -> None:
        assert check_value(field(kind), raw) == stored

    def test_a_list_value_is_an_option_id_or_its_unique_label(self) -> None:
        assert check_value(field("list"), "o-imported", OPTIONS) == "o-imported"
        assert check_value(field("list"), "Imported", OPTIONS) == "o-imported"

    def test_a_multiple_field_takes_a_list_without_repeats(self) -> None:
        assert check_value(field("integer", multiple=True), [1, "2", 1]) == [1, 2]

    def test_empty_means_no_value(self) -> None:
        assert check_value(field("string"), "") is None
        assert check_value(field("integer", multiple=True), []) is None


class TestBadValuesAreRefusedWithAReason:
    @pytest.mark.parametrize(
        ("kind", "raw", "reason"),
        [
            ("string", 5, "expected a string"),
            ("integer", "4.5", "expected an integer"),
            ("integer", True, "expected an integer"),
            ("integer", 2**70, "too large"),
            ("decimal", "NaN", "finite"),
            ("decimal", "ten", "decimal"),
            ("money", {"amount": "1", "currency": "XXY"}, "ISO 4217"),
            ("money", "12", '"amount"'),
            ("boolean", "maybe", "true or false"),
            ("date", "31.01.2026", "ISO date"),
            ("datetime", "2026-01-31T12:00:00", "time zone"),
            ("user", "", None),
            ("url", "ftp//nope", "URL"),
            ("email", "not-an-address", "@"),
            ("phone", "12345", "phone number"),
            ("list", "Unknown", "not an option"),
            ("list", "o-gone", "no longer offered"),
            ("string", ["a"], "single"),
        ],
    )
    def test_the_value_is_refused(self, kind: str, raw: Any, reason: str | None) -> None:
        if reason is None:  # empty is no value, not an error
            assert check_value(field(kind), raw, OPTIONS) is None
            return
        with pytest.raises(BadValue, match=reason):
            check_value(field(kind), raw, OPTIONS)

    def test_a_single_field_refuses_a_list_and_a_multiple_one_a_scalar(self) -> None:
        with pytest.raises(BadValue, match="list of values"):
            check_value(field("string", multiple=True), "a")


class TestRules:
    def test_length_pattern_and_range(self) -> None:
        with pytest.raises(BadValue, match="at most 3 characters"):
            check_value(field("string", validation={"max_length": 3}), "abcd")
        with pytest.raises(BadValue, match="at least 2"):
            check_value(field("string", validation={"min_length": 2}), "a")
        with pytest.raises(BadValue, match="pattern"):
            check_value(field("string", validation={"pattern": "[0-9]{10}"}), "12345")
        with pytest.raises(BadValue, match="at least 0"):
            check_value(field("integer", validation={"min": 0}), -1)
        with pytest.raises(BadValue, match="at most 2026-12-31"):
            check_value(field("date", validation={"max": "2026-12-31"}), "2027-01-01")
        with pytest.raises(BadValue, match="at most 100"):
            check_value(field("money", validation={"max": 100}), {"amount": "100.01", "currency": "EUR"})

    def test_rules_are_not_applied_to_filter_values(self) -> None:
        assert check_value(field("string", validation={"max_length": 1}), "abc", rules=False) == "abc"

    def test_unusable_rules_are_refused_when_the_field_is_defined(self) -> None:
        with pytest.raises(Invalid) as refused:
            check_field(field("integer", validation={"min": 5, "max": 1, "pattern": "x"}), [])
        messages = [e["message"] for e in refused.value.errors]
        assert any("'pattern' does not apply" in m for m in messages)
        with pytest.raises(Invalid, match="validation"):
            check_field(field("string", validation={"pattern": "("}), [])

    def test_a_default_must_be_a_valid_value(self) -> None:
        with pytest.raises(Invalid) as refused:
            check_field(field("integer", default="many"), [])
        assert refused.value.errors == [{"field": "/default", "message": "expected an integer"}]


class TestOptionsKeepTheirIds:
    def test_a_left_out_option_stays_hidden_and_new_ones_get_ids(self) -> None:
        first = merge_options([], [OptionDraft(label="Imported"), OptionDraft(label="In progress")])
        second = merge_options(first, [OptionDraft(id=first[0].id, label="Imported (CSV)"), OptionDraft(label="Won")])

        assert second[0].id == first[0].id and second[0].label == "Imported (CSV)"
        assert second[-1] == first[1].model_copy(update={"hidden": True})
        assert len({o.id for o in second}) == 3


class TestTypeSchema:
    def schema(self) -> TypeSchema:
        fields = {
            "inn": FieldDefinition(field_id="1", code="inn", label="INN", kind="string", required=True),
            "status": FieldDefinition(
                field_id="2", code="status", label="Status", kind="list", options=OPTIONS, default="o-imported"
            ),
            "old": FieldDefinition(field_id="3", code="old", label="Old", kind="string", hidden=True),
        }
        return TypeSchema("type-1", {}, fields, {"status": OPTIONS})

    def test_defaults_fill_absent_fields_on_create(self) -> None:
        values, _links = self.schema().check({"inn": "1"}, creating=True)

        assert values == {"inn": "1", "status": "o-imported"}

    def test_every_problem_names_its_field(self) -> None:
        with pytest.raises(Invalid) as refused:
            self.schema().check({"old": "x", "nope": 1, "status": "?"}, creating=True)

        assert {e["field"] for e in refused.value.errors} == {
            "/fields/old",
            "/fields/nope",
            "/fields/status",
            "/fields/inn",
        }

    def test_an_update_checks_only_what_it_sends_but_cannot_clear_a_required_value(self) -> None:
        assert self.schema().check({"status": "Imported"}, creating=False)[0] == {"status": "o-imported"}
        with pytest.raises(Invalid, match="1 field"):
            self.schema().check({"inn": None}, creating=False)

    def test_hidden_fields_keep_their_values_but_do_not_show_them(self) -> None:
        assert self.schema().visible({"inn": "1", "old": "kept"}) == {"inn": "1"}


class TestSettingsSwitchSystemFieldsOff:
    def test_values_of_switched_off_system_fields_are_refused(self) -> None:
        schema = TypeSchema("type-1", {"observers_enabled": False, "dates_enabled": True, "client_binding": False}, {})

        errors = schema.switched_off({"observer_ids": ["bob"], "begin_date": "2026-01-01", "client_id": "c-1"})

        assert [e["field"] for e in errors] == ["/observer_ids", "/client_id"]
        assert schema.switched_off({"observer_ids": [], "title": "t"}) == []

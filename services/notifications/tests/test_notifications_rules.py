"""Unit specifications of the pure rules: templates, signatures, webhook targets, calendar arithmetic, channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conveyor_contracts.notifications import ReminderSpec
from notifications.adapters.http_target import pinned
from notifications.domain.calendar import Entry, due_times, overlapping, reminder_text
from notifications.domain.preferences import channels_for
from notifications.domain.signing import header_value, verify
from notifications.domain.targets import TargetRefused, check_addresses, split_target
from notifications.domain.templates import TemplateRefused, check, check_variants, render

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class TestTemplates:
    def test_a_template_renders_its_variables_in_the_wanted_language(self) -> None:
        variants: dict[str, dict[str, str | None]] = {
            "en": {"subject": "Hi {{ name }}", "text": "Call {{ client }}", "html": "<b>{{ client }}</b>"},
            "ru": {"subject": "Привет, {{ name }}", "text": "Позвоните {{ client }}", "html": None},
        }
        check_variants(variants, {"name", "client"})
        rendered = render(variants, "ru", {"name": "Анна", "client": "ЖКХ"})
        assert (rendered.subject, rendered.text, rendered.html) == ("Привет, Анна", "Позвоните ЖКХ", None)
        assert render(variants, "de", {"name": "A", "client": "<x>"}).html == "<b>&lt;x&gt;</b>"

    @pytest.mark.parametrize(
        "source",
        [
            "{{ secret }}",
            "{{ name.__class__ }}",
            "{{ name['__class__'] }}",
            "{{ lipsum() }}",
            "{{ range(10) }}",
            "{{ name.upper() }}",
            "{% for x in cycler %}{% endfor %}",
            "{{ name ",
        ],
    )
    def test_a_template_that_reaches_outside_its_variables_is_refused(self, source: str) -> None:
        with pytest.raises(TemplateRefused):
            check(source, {"name"})

    @pytest.mark.parametrize(
        "bomb",
        [
            "{% for a in 'xxxxxxxxxx' %}" * 7 + "y" + "{% endfor %}" * 7,  # ten million rounds over constants
            "{% for a in name %}{% for b in name %}{% endfor %}{% endfor %}",
            "{{ 9 ** 9 ** 9 }}",  # folded at compile time: the preview would never answer
            "{{ name * 1000000000 }}",
        ],
    )
    def test_templates_that_multiply_work_without_bound_are_refused(self, bomb: str) -> None:
        # Found by tests/security: a preview of the first rendered 10 MB; eight loops would take minutes.
        with pytest.raises(TemplateRefused):
            check(bomb, {"name"})

    def test_a_render_stops_at_its_size_limit(self) -> None:
        variants: dict[str, dict[str, str | None]] = {
            "en": {"subject": "s", "text": "{% for c in n %}{{ n }}{% endfor %}"}
        }
        with pytest.raises(TemplateRefused, match="longer than"):
            render(variants, "en", {"n": "x" * 1000})

    def test_filters_on_given_variables_are_fine(self) -> None:
        check("{{ name|upper }} {% if n > 1 %}{{ n }}{% endif %}", {"name", "n"})


class TestSignature:
    def test_a_receiver_verifies_what_was_signed_and_nothing_else(self) -> None:
        body = b'{"a":1}'
        header = header_value("whsec_x", 1_700_000_000, body)
        assert verify("whsec_x", header, body, now=1_700_000_010)
        assert not verify("whsec_x", header, b'{"a":2}', now=1_700_000_010)
        assert not verify("whsec_y", header, body, now=1_700_000_010)
        assert not verify("whsec_x", header, body, now=1_700_001_000)  # replayed too late


class TestTargets:
    @pytest.mark.parametrize(
        "address",
        ["127.0.0.1", "10.1.2.3", "192.168.0.5", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "0.0.0.0"],
    )
    def test_internal_addresses_are_refused(self, address: str) -> None:
        with pytest.raises(TargetRefused):
            check_addresses("hooks.example", [address], [])

    def test_one_internal_address_among_public_ones_refuses_the_host(self) -> None:
        with pytest.raises(TargetRefused):
            check_addresses("hooks.example", ["93.184.216.34", "10.0.0.1"], [])

    def test_the_allow_list_names_hosts_addresses_or_networks(self) -> None:
        check_addresses("localhost", ["127.0.0.1"], ["localhost"])
        check_addresses("a", ["10.0.0.7"], ["10.0.0.0/8"])
        check_addresses("hooks.example", ["93.184.216.34"], [])

    def test_only_http_urls_without_credentials(self) -> None:
        for url in ["ftp://x/", "file:///etc/passwd", "http://u:p@x/"]:
            with pytest.raises(TargetRefused):
                split_target(url)


class TestCalendar:
    def test_reminders_are_due_before_the_start_or_at_their_time(self) -> None:
        specs = [
            ReminderSpec(minutes_before=15),
            ReminderSpec(at=T0 - timedelta(days=1)),
            ReminderSpec(minutes_before=15),
        ]
        assert due_times(T0, specs) == [T0 - timedelta(days=1), T0 - timedelta(minutes=15)]

    def test_overlapping_entries_are_marked_and_touching_ones_are_not(self) -> None:
        def e(i: str, start: int, end: int) -> Entry:
            return Entry(
                entry_id=i, title=i, kind="call", start=T0 + timedelta(minutes=start), end=T0 + timedelta(minutes=end)
            )

        assert overlapping([e("a", 0, 60), e("b", 30, 40), e("c", 60, 90), e("d", 120, 130)]) == {"a", "b"}


class TestChannels:
    def test_a_users_choice_wins_then_their_default_then_ours(self) -> None:
        assert channels_for({}, "reminder") == ["in_app", "email"]
        assert channels_for({}, "stage_changed") == ["in_app"]
        assert channels_for({"*": ["email"]}, "stage_changed") == ["email"]
        assert channels_for({"reminder": []}, "reminder") == []


class TestPinnedConnection:
    def test_the_call_goes_to_the_checked_address_with_the_original_host_and_server_name(self) -> None:
        target, headers, extensions = pinned("https://hooks.example.com:8443/in?a=1", "93.184.216.34")
        assert str(target) == "https://93.184.216.34:8443/in?a=1"
        assert headers == {"Host": "hooks.example.com:8443"} and extensions == {"sni_hostname": "hooks.example.com"}


class TestReminderText:
    def test_a_reminder_speaks_the_users_language(self) -> None:
        entry = Entry(entry_id="e", title="ЖКХ-1", kind="meeting", start=T0, end=T0)
        assert reminder_text(entry, "ru") == ("Напоминание: ЖКХ-1", "Встреча «ЖКХ-1» начнётся 2026-12-01 09:00 UTC.")
        assert reminder_text(entry, "en")[1] == 'Meeting "ЖКХ-1" starts at 2026-12-01 09:00 UTC.'

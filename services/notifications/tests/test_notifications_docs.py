"""The verification example in docs/notifications.md works against the service's signer."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from notifications.domain.signing import header_value

pytestmark = pytest.mark.unit
DOC = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"


def test_the_documented_receiver_accepts_a_signed_body_and_refuses_a_changed_one() -> None:
    [snippet] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    namespace: dict[str, Any] = {}
    exec(compile(snippet, str(DOC), "exec"), namespace)
    verify = namespace["verify_conveyor_signature"]
    body = b'{"type":"conveyor.pipelines.item.moved_to_stage.v1"}'
    header = header_value("whsec_doc", int(time.time()), body)
    assert verify("whsec_doc", header, body) is True
    assert verify("whsec_doc", header, body + b" ") is False
    assert verify("whsec_doc", header_value("whsec_doc", int(time.time()) - 3600, body), body) is False

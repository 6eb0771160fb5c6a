"""Mint development HS256 tokens: `python -m conveyor_kit.tokens --tenant T --user U`."""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from conveyor_kit.clock import SystemClock
from conveyor_kit.settings import PLACEHOLDER_JWT_SECRET
from conveyor_kit.shared_clock import FileClock


def mint_token(
    *,
    tenant_id: str,
    user_id: str,
    roles: Iterable[str] = (),
    secret: str = PLACEHOLDER_JWT_SECRET,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """An HS256 token with the claims services read: `sub`, `tid`, `roles`, `iat`, `exp`."""
    issued = now or SystemClock().now()
    claims: dict[str, object] = {
        "sub": user_id,
        "tid": tenant_id,
        "roles": sorted(set(roles)),
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conveyor_kit.tokens", description=__doc__)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--roles", default="", help="comma-separated, e.g. admin,manager")
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    parser.add_argument("--secret", default=None, help="default: $CONVEYOR_JWT_SECRET")
    parser.add_argument("--issuer", default=os.environ.get("CONVEYOR_JWT_ISSUER"))
    parser.add_argument("--audience", default=os.environ.get("CONVEYOR_JWT_AUDIENCE"))
    parser.add_argument(
        "--clock-file",
        type=Path,
        default=os.environ.get("CONVEYOR_TEST_CLOCK_FILE"),
        help="a shared test clock (conveyor_kit.shared_clock): the token also lives --ttl past its time",
    )
    args = parser.parse_args(argv)
    # Production trusts its identity provider's tokens only; minted ones have no place there.
    if os.environ.get("CONVEYOR_ENVIRONMENT") == "production":
        print("refusing to mint development tokens in production", file=sys.stderr)
        return 2
    secret = args.secret or os.environ.get("CONVEYOR_JWT_SECRET") or PLACEHOLDER_JWT_SECRET
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    with warnings.catch_warnings():
        if secret == PLACEHOLDER_JWT_SECRET:
            # Known to be short and refused in production; the warning would only be noise here.
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = mint_token(
            tenant_id=args.tenant,
            user_id=args.user,
            roles=roles,
            secret=secret,
            ttl_seconds=args.ttl + _ahead_of_the_wall(args.clock_file),
            issuer=args.issuer,
            audience=args.audience,
        )
    print(token)
    return 0


def _ahead_of_the_wall(clock_file: Path | None) -> int:
    """How far a moved test clock is ahead: a token then holds for the wall clock and for that one."""
    if clock_file is None or not clock_file.exists():
        return 0
    ahead = FileClock(clock_file).now() - SystemClock().now()
    return max(0, math.ceil(ahead.total_seconds()))


if __name__ == "__main__":
    raise SystemExit(main())

"""The one error type of the streams toolchain and the exit statuses it maps to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """`globus-streams` exit statuses: one per kind of failure, the same on every command.

    The table in `globus-streams --help` and the README is generated from `EXIT_CODE_HELP`.
    """

    OK = 0
    BAD_INPUT = 1  # a bad value, a missing or unsafe conf, a tunnel in the wrong state
    USAGE = 2  # unknown command or option, missing argument (click's own code)
    UNREACHABLE = 3  # a Globus service or GCS Manager cannot be reached
    NOT_FOUND = 4  # unknown to Globus, or not yours (Transfer hides others' tunnels)
    SERVICE = 5  # any other error answer from a service, after retries
    LOGIN = 6  # not logged in, credentials rejected, or a consent missing
    TIMEOUT = 7  # `tunnel wait` or `up` did not see the state in time
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


EXIT_CODE_HELP = {
    ExitCode.OK: "success",
    ExitCode.BAD_INPUT: "bad input or local state (bad value, missing or unsafe conf, "
    "tunnel state)",
    ExitCode.USAGE: "usage error (unknown command or option, missing argument)",
    ExitCode.UNREACHABLE: "a Globus service or GCS Manager cannot be reached",
    ExitCode.NOT_FOUND: "not found or access denied (tunnel, access point, endpoint, secret)",
    ExitCode.SERVICE: "any other error answer from a service (after retries)",
    ExitCode.LOGIN: "not logged in, credentials rejected, or a consent missing",
    ExitCode.TIMEOUT: "timed out waiting for a tunnel state (tunnel wait, up)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

# The `error` field of a JSON error: a stable name per exit status.
ERROR_KINDS: dict[int, str] = {
    ExitCode.BAD_INPUT: "bad_input",
    ExitCode.USAGE: "usage",
    ExitCode.UNREACHABLE: "unreachable",
    ExitCode.NOT_FOUND: "not_found",
    ExitCode.SERVICE: "service_error",
    ExitCode.LOGIN: "login_required",
    ExitCode.TIMEOUT: "timeout",
    ExitCode.INTERRUPTED: "interrupted",
}


class StreamsError(Exception):
    """An expected failure (bad input, missing conf, denied, network down).

    The CLI prints ``str(error)`` as a single line on stderr and exits with ``exit_code``;
    messages never contain a LAN secret or a token.
    """

    def __init__(
        self, message: str, *, exit_code: int = ExitCode.BAD_INPUT, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.kind = kind  # the JSON error's name when it differs from the exit status's

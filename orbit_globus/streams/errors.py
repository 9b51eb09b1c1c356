"""The one error type of the streams toolchain: an expected failure with a one-line reason."""


class StreamsError(Exception):
    """An expected failure (bad input, missing conf, denied, network down).

    The CLI prints ``str(error)`` as a single line on stderr and exits with ``exit_code``;
    messages never contain a LAN secret or a token.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

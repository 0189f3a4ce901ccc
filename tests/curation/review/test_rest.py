"""Every way a REST read can fail is one line naming the server and the path (no server needed)."""

from __future__ import annotations

import httpx
import pytest
from rbkit.curation.review.connection import ReviewServerError, ReviewTarget
from rbkit.curation.review.rest import ArgillaReader

TARGET = ReviewTarget("http://argilla.test", "key", "ws")


def reader(handler) -> ArgillaReader:
    return ArgillaReader(TARGET, httpx.Client(base_url=TARGET.api_url, transport=httpx.MockTransport(handler)))


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (lambda request: httpx.Response(500, text='{"detail":\n  "IntegrityError\\n[SQL: INSERT ...]"}'), "-> HTTP 500: {"),
        (lambda request: httpx.Response(200, text="<html>\n<body>proxy login</body>\n</html>"), "did not answer JSON: <html> <body>"),
    ],
)
def test_a_bad_answer_is_one_line_naming_server_and_path(handler, expected):
    with pytest.raises(ReviewServerError) as err:
        reader(handler).dataset_status("d1")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Argilla at http://argilla.test")
    assert "/api/v1/datasets/d1" in message and expected in message


def test_a_dropped_connection_is_one_line_naming_server_and_path():
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected\nwithout sending a response.", request=request)

    with pytest.raises(ReviewServerError) as err:
        list(reader(drop).records("d2"))
    assert str(err.value) == (
        "Argilla at http://argilla.test stopped answering (/api/v1/datasets/d2/records): "
        "Server disconnected without sending a response."
    )

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url) -> int:
    """How many queries a GET of `url` runs (asserting it succeeds)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)

"""A test product API (Medusa admin API v2/v1 stand-in) for tests, benchmarks and the demo.

Use from Python::

    with ProductAPI(drafts=25, api_key="sk_test_x") as api:
        ...  # point the runtime at api.url; inspect api.state(), api.requests

or from the command line (``python -m tests.support.product_api --help``).
"""

from tests.support.product_api.server import (
    DEFAULT_API_KEY,
    Fault,
    ProductAPI,
    RequestInfo,
    StoredProduct,
)

__all__ = ["DEFAULT_API_KEY", "Fault", "ProductAPI", "RequestInfo", "StoredProduct"]

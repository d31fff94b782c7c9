"""OpenAPI 3.1 from the pacts (issue 19): pure functions over the contract model, like app.contract.

`openapi_document(contracts, stateful)` is the whole API; the web layer serves it at /_mock/openapi.json and
the CLI prints it (`pactmock openapi`).
"""

from .document import openapi_document
from .stateful import StatefulRoutes

__all__ = ["StatefulRoutes", "openapi_document"]

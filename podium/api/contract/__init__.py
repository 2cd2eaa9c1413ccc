"""The HTTP contract, declared once as types (msgspec Structs).

Each request body and answer is a Struct here, with its limits taken from the domain's
constants and the service's settings (`Contract`). The handlers decode bodies with these
types, and the OpenAPI document's components are generated from the same types
(contract/schema.py), so a limit is written in one place and the document says what the
service enforces (`PODIUM_MAX_BATCH=50`: the batch schema's maxItems is 50).

msgspec rather than pydantic: the batch endpoint decodes a thousand submissions a request,
and msgspec decodes and checks them faster than the orjson + hand checks it replaced
(pydantic took twice as long)."""

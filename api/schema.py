"""Touches on the generated schema."""

from __future__ import annotations

from typing import Any

# Django's <int:…> converter matches digits only: ids are whole numbers from 1 (up to
# PostgreSQL's bigint), and anything else is not an address of the API at all.
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


def positive_ids(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every integer path parameter is an id: say so, so clients and fuzzers send one."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["schema"].get("type") == "integer":
                    parameter["schema"] = dict(ID_SCHEMA)
    return result

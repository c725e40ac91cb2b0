#!/usr/bin/env python3
"""Extracts, from the official Genesys Cloud Python SDK, the models of the documents Convoy meets.

Writes contract/genesys-models.json: for every model reachable from the roots below, each field's JSON
key, its SDK type (`str`, `int`, `float`, `bool`, `datetime`, `date`, `object`, `list[T]`,
`dict(str, T)` or a model name) and, for enum fields, the values the field's setter allows. The Swift
contract test (Tests/ConvoyMockTests/MockContractTests.swift) and check_contract.py read that file.

The SDK generates its models from Genesys's OpenAPI definition: `swagger_types` maps each attribute to
its type, `attribute_map` maps it to its JSON key, and each enum setter holds an `allowed_values` list.

Usage: python3 contract/extract_schema.py [--out contract/genesys-models.json]
"""

import argparse
import ast
import inspect
import json
import os
import re
import sys

import PureCloudPlatformClientV2 as sdk

try:
    from importlib.metadata import version as package_version
except ImportError:  # pragma: no cover
    package_version = None

# The document kinds the mock serves and Convoy calls, with the model (or list of models) each answers with.
DOCUMENTS = {
    "conversation": "Conversation",                                   # GET /api/v2/conversations/{id}
    "messagingConversation": "MessageConversation",                   # GET /api/v2/conversations/messages/{id}
    "bulkMessages": "TextMessageListing",                             # POST .../messages/{id}/messages/bulk
    "recordingMetadata": "list[RecordingMetadata]",                   # GET .../{id}/recordingmetadata
    "analytics": "AnalyticsConversationWithoutAttributes",            # GET /api/v2/analytics/conversations/{id}/details
    "analyticsBatch": "AnalyticsConversationWithoutAttributesMultiGetResponse",  # GET .../details?id=a,b
    "detailsQuery": "AnalyticsConversationQueryResponse",             # POST .../details/query
    "jobSubmit": "AsyncQueryResponse",                                # POST .../details/jobs
    "jobStatus": "AsyncQueryStatus",                                  # GET .../details/jobs/{jobId}
    "jobResults": "AnalyticsConversationAsyncQueryResponse",          # GET .../details/jobs/{jobId}/results
    "availability": "DataAvailabilityResponse",                       # GET .../details/jobs/availability
    "error": "ErrorBody",                                             # every 4xx/5xx, the 429 included
    "token": "OAuthToken",                                            # POST /oauth/token (not an SDK model)
}

# The SDK does not model the token answer (api_client.get_client_credentials_token reads `access_token` from
# the raw JSON); this is RFC 6749 section 5.1 as Genesys answers it.
HAND_WRITTEN = {
    "OAuthToken": {
        "source": "RFC 6749 5.1; the SDK reads access_token from the raw JSON",
        "fields": {
            "access_token": {"type": "str"},
            "token_type": {"type": "str"},
            "expires_in": {"type": "int"},
        },
    }
}

PRIMITIVES = {"str", "int", "float", "bool", "datetime", "date", "object", "long"}


def referenced_models(type_name):
    """The model names inside an SDK type string such as list[dict(str, Foo)]."""
    match = re.fullmatch(r"list\[(.*)\]", type_name)
    if match:
        return referenced_models(match.group(1))
    match = re.fullmatch(r"dict\(([^,]*),\s*(.*)\)", type_name)
    if match:
        return referenced_models(match.group(2))
    return [] if type_name in PRIMITIVES else [type_name]


def allowed_values(cls):
    """{python attribute: [allowed values]} from the enum setters in the class's source."""
    tree = ast.parse(inspect.getsource(cls))
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        if not any(isinstance(d, ast.Attribute) and d.attr == "setter" for d in node.decorator_list):
            continue
        for statement in ast.walk(node):
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)
                    and statement.targets[0].id == "allowed_values"
                    and isinstance(statement.value, ast.List)):
                found[node.name] = [element.value for element in statement.value.elts]
    return found


def model(name):
    cls = getattr(sdk, name, None)
    if cls is None or not inspect.isclass(cls):
        raise SystemExit(f"extract_schema: the SDK has no model {name}")
    instance = cls()
    enums = allowed_values(cls)
    fields = {}
    for attribute, type_name in instance.swagger_types.items():
        field = {"type": type_name}
        if attribute in enums:
            field["enum"] = enums[attribute]
        fields[instance.attribute_map[attribute]] = field
    return {"fields": fields}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "genesys-models.json"))
    arguments = parser.parse_args()

    models = {}
    pending = []
    for type_name in DOCUMENTS.values():
        pending += [name for name in referenced_models(type_name) if name not in HAND_WRITTEN]
    while pending:
        name = pending.pop()
        if name in models:
            continue
        models[name] = model(name)
        for field in models[name]["fields"].values():
            pending += [other for other in referenced_models(field["type"]) if other not in models]
    models.update(HAND_WRITTEN)

    version = package_version("purecloudplatformclientv2") if package_version else "unknown"
    document = {
        "sdk": "purecloudplatformclientv2",
        "version": version,
        "generatedBy": "contract/extract_schema.py",
        "documents": DOCUMENTS,
        "models": {name: models[name] for name in sorted(models)},
    }
    with open(arguments.out, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=1, sort_keys=False, ensure_ascii=False)
        file.write("\n")
    print(f"extract_schema: {len(models)} models from {document['sdk']} {version} -> {arguments.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

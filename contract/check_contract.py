#!/usr/bin/env python3
"""Holds `convoy mock-server` to Genesys's own models, those of the official Python SDK.

Two checks over every kind of document the mock serves (and Convoy calls):

1. A walk of each document against the SDK's model (contract/genesys-models.json, written by
   extract_schema.py from the same SDK): keys the model lacks, enum values outside the setter's
   `allowed_values`, wrong JSON types (str, int, float, bool, ISO-8601 datetime strings, lists,
   dicts, nested models).
2. The official SDK against the mock as a user's integration runs it: `configuration.host` on the
   mock, an OAuth client-credentials login against the same host, then each endpoint's API method;
   `ApiClient().sanitize_for_serialization(model)` must give back every field the mock sent.

Besides, every 429 must carry `Retry-After` and Genesys's normalized body, and correlation ids must
not repeat, not even between two servers started alike ("protocol" column).

Prints one row per document kind and exits 1 when any count is non-zero, 2 when the mock cannot be
started or reached.

Usage:
  python3 contract/check_contract.py --convoy .build/debug/convoy    # starts its own mock servers
  python3 contract/check_contract.py --url http://127.0.0.1:8080 --client-id ID --client-secret S
      (a running unlimited mock-server started with those OAuth credentials; the 429 rows then
       need --convoy as well, or are skipped)
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = [
    "token", "conversation", "messagingConversation", "bulkMessages", "recordingMetadata", "analytics",
    "analyticsBatch", "detailsQuery", "jobSubmit", "jobStatus", "jobResults", "availability", "error429",
]
COLUMNS = ["unknown keys", "enum violations", "type errors", "fields lost", "protocol"]
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLIENT_ID, CLIENT_SECRET = "contract-check", "contract-secret"


class Report:
    def __init__(self):
        self.documents = {kind: 0 for kind in KINDS}
        self.counts = {kind: {column: 0 for column in COLUMNS} for kind in KINDS}
        self.examples = {kind: {} for kind in KINDS}
        self.skipped = {}

    def issue(self, kind, column, path, message):
        self.counts[kind][column] += 1
        key = (column, re.sub(r"\[\d+\]", "[]", path), message)
        self.examples[kind][key] = self.examples[kind].get(key, 0) + 1

    def failed(self):
        return any(value for row in self.counts.values() for value in row.values())

    def print(self, verbose):
        width = max(len(kind) for kind in KINDS)
        header = f"{'document kind'.ljust(width)}  docs  " + "  ".join(COLUMNS)
        print(header)
        print("-" * len(header))
        for kind in KINDS:
            row = self.counts[kind]
            cells = "  ".join(str(row[column]).rjust(len(column)) for column in COLUMNS)
            note = f"  (skipped: {self.skipped[kind]})" if kind in self.skipped else ""
            print(f"{kind.ljust(width)}  {str(self.documents[kind]).rjust(4)}  {cells}{note}")
        totals = "  ".join(
            str(sum(self.counts[kind][column] for kind in KINDS)).rjust(len(column)) for column in COLUMNS)
        print(f"{'total'.ljust(width)}  {str(sum(self.documents.values())).rjust(4)}  {totals}")
        if not verbose:
            return
        for kind in KINDS:
            for (column, path, message), times in sorted(self.examples[kind].items())[:40]:
                print(f"  {kind}: {column}: {path}: {message} (x{times})")


# MARK: walking a document against the model

class Schema:
    def __init__(self, path):
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
        self.version = document["version"]
        self.models = document["models"]
        self.documents = document["documents"]


def is_datetime(value):
    return isinstance(value, str) and DATETIME.match(value) is not None


def walk(schema, report, kind, value, type_name, path):
    """Reports every key, enum value and type in `value` that model type `type_name` does not allow."""
    if value is None:
        return
    match = re.fullmatch(r"list\[(.*)\]", type_name)
    if match:
        if not isinstance(value, list):
            report.issue(kind, "type errors", path, f"{type(value).__name__}, not {type_name}")
            return
        for index, element in enumerate(value):
            walk(schema, report, kind, element, match.group(1), f"{path}[{index}]")
        return
    match = re.fullmatch(r"dict\(([^,]*),\s*(.*)\)", type_name)
    if match:
        if not isinstance(value, dict):
            report.issue(kind, "type errors", path, f"{type(value).__name__}, not {type_name}")
            return
        for key, element in value.items():
            walk(schema, report, kind, element, match.group(2), f"{path}.{key}")
        return
    checks = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "datetime": is_datetime,
        "date": lambda v: isinstance(v, str) and DATE.match(v) is not None,
        "object": lambda v: True,
    }
    if type_name in checks:
        if not checks[type_name](value):
            report.issue(kind, "type errors", path, f"{json.dumps(value)[:60]} is not {type_name}")
        return
    model = schema.models.get(type_name)
    if model is None:
        report.issue(kind, "type errors", path, f"model {type_name} is not in the schema file")
        return
    if not isinstance(value, dict):
        report.issue(kind, "type errors", path, f"{type(value).__name__}, not a {type_name} object")
        return
    for key, element in value.items():
        field = model["fields"].get(key)
        if field is None:
            report.issue(kind, "unknown keys", f"{path}.{key}", f"{type_name} has no '{key}'")
            continue
        allowed = field.get("enum")
        if allowed is not None and isinstance(element, str) and element not in allowed:
            report.issue(kind, "enum violations", f"{path}.{key}",
                         f"'{element}' is not one of {type_name}.{key}'s values")
        walk(schema, report, kind, element, field["type"], f"{path}.{key}")


# MARK: the SDK round trip

def same_leaf(sent, back):
    if sent == back and type(sent) is type(back):
        return True
    if isinstance(sent, (int, float)) and isinstance(back, (int, float)) and not isinstance(sent, bool):
        return float(sent) == float(back)
    if is_datetime(sent) and isinstance(back, str):
        try:
            return (datetime.fromisoformat(sent.replace("Z", "+00:00"))
                    == datetime.fromisoformat(back.replace("Z", "+00:00")))
        except ValueError:
            return False
    return False


def compare(report, kind, sent, back, path):
    """Reports every field of `sent` (what the mock sent) that `back` (the SDK's re-serialization) lost."""
    if isinstance(sent, dict):
        if not isinstance(back, dict):
            report.issue(kind, "fields lost", path, "object came back as " + type(back).__name__)
            return
        for key, element in sent.items():
            if element is None:
                continue
            if key not in back:
                report.issue(kind, "fields lost", f"{path}.{key}", "missing after the SDK round trip")
            else:
                compare(report, kind, element, back[key], f"{path}.{key}")
    elif isinstance(sent, list):
        if not isinstance(back, list) or len(back) != len(sent):
            report.issue(kind, "fields lost", path, "list came back different")
            return
        for index, (element, other) in enumerate(zip(sent, back)):
            compare(report, kind, element, other, f"{path}[{index}]")
    elif not same_leaf(sent, back):
        report.issue(kind, "fields lost", path, f"{json.dumps(sent)[:40]} came back as {json.dumps(back)[:40]}")


# MARK: talking to the mock

class Mock:
    """A running mock-server: started here (and stopped at the end) or given by URL."""

    def __init__(self, convoy=None, url=None, arguments=()):
        self.process = None
        if url:
            self.url = url.rstrip("/")
            return
        self.process = subprocess.Popen(
            [convoy, "mock-server", "--port", "0", *arguments],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        match = re.search(r"listening on (http://[0-9.]+:\d+)", line)
        if not match:
            self.stop()
            raise SystemExit(f"check_contract: the mock did not start: {line.strip()}")
        self.url = match.group(1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Raw:
    """Plain HTTP against the mock, remembering every correlation id it saw."""

    def __init__(self, correlation_ids):
        self.correlation_ids = correlation_ids

    def request(self, url, method="GET", body=None, headers=None):
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer_headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, data = error.code, error.headers, error.read()
        correlation = answer_headers.get("ININ-Correlation-Id")
        if correlation:
            self.correlation_ids.append(correlation)
        return status, answer_headers, data


def token_document(raw, base, report):
    credentials = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    status, _, data = raw.request(
        base + "/oauth/token", "POST", b"grant_type=client_credentials",
        {"Authorization": "Basic " + credentials, "Content-Type": "application/x-www-form-urlencoded"})
    if status != 200:
        raise SystemExit(f"check_contract: the token endpoint answered {status}: {data[:200]!r}")
    return json.loads(data)


def check_429s(schema, report, convoy, raw):
    """Two limited servers (a Genesys fixed window and a gcra bucket) answer 429s; each is walked as an
    ErrorBody and must carry Retry-After and the normalized code."""
    for arguments in (["--limit", "1", "--window", "60"], ["--limiter", "gcra", "--limit", "1", "--window", "60",
                                                            "--burst", "0"]):
        mock = Mock(convoy=convoy, arguments=arguments)
        try:
            sample = "11111111-2222-4333-8444-555555555555"
            for _ in range(3):
                status, headers, data = raw.request(f"{mock.url}/api/v2/conversations/{sample}")
                if status != 429:
                    continue
                report.documents["error429"] += 1
                body = json.loads(data)
                walk(schema, report, "error429", body, "ErrorBody", "$")
                where = " ".join(arguments)
                if not headers.get("Retry-After", "").isdigit():
                    report.issue("error429", "protocol", "Retry-After", f"no Retry-After ({where})")
                if body.get("code") != "too.many.requests.retry.after":
                    report.issue("error429", "protocol", "$.code", f"code {body.get('code')!r} ({where})")
                expected = f"Retry the request in [{headers.get('Retry-After')}] seconds"
                if expected not in str(body.get("message")):
                    report.issue("error429", "protocol", "$.message", f"message does not name the wait ({where})")
                for key in ("details", "errors"):
                    if body.get(key) != []:
                        report.issue("error429", "protocol", f"$.{key}", f"not [] ({where})")
        finally:
            mock.stop()


def run_sdk(schema, report, base, raw, sample_size):
    import PureCloudPlatformClientV2 as sdk
    from PureCloudPlatformClientV2.rest import ApiException

    configuration = sdk.Configuration()
    configuration.host = base
    client = sdk.api_client.ApiClient()
    client.configuration = configuration
    client.host = base
    # The SDK's own OAuth client-credentials login; its login URL is the API host with //api. -> //login.,
    # so a loopback host keeps the token endpoint on the mock.
    client.get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
    conversations = sdk.ConversationsApi(client)
    analytics = sdk.AnalyticsApi(client)
    recording = sdk.RecordingApi(client)
    serializer = sdk.api_client.ApiClient()

    def call(kind, model_type, method, *arguments, **keywords):
        """One SDK call: walks what the mock sent, then checks the SDK's model gives all of it back."""
        try:
            model = method(*arguments, **keywords)
        except ApiException as error:
            report.issue(kind, "protocol", "$", f"the SDK call failed: {error.status} {error.reason}")
            return None
        response = client.last_response
        correlation = response.getheader("ININ-Correlation-Id") if hasattr(response, "getheader") else None
        if correlation:
            raw.correlation_ids.append(correlation)
        sent = json.loads(response.data) if response.data else None
        report.documents[kind] += 1
        walk(schema, report, kind, sent, model_type, "$")
        compare(report, kind, sent, serializer.sanitize_for_serialization(model), "$")
        return sent

    # The sample ids the mock knows (the first of its analytics universe).
    query = call("detailsQuery", "AnalyticsConversationQueryResponse",
                 analytics.post_analytics_conversations_details_query,
                 {"interval": "2026-01-01T00:00:00.000Z/2027-01-01T00:00:00.000Z",
                  "paging": {"pageSize": 100, "pageNumber": 1}})
    ids = [row["conversationId"] for row in (query or {}).get("conversations", [])][:sample_size]
    for page in (2, 3):
        call("detailsQuery", "AnalyticsConversationQueryResponse",
             analytics.post_analytics_conversations_details_query,
             {"interval": "2026-01-01T00:00:00.000Z/2027-01-01T00:00:00.000Z",
              "paging": {"pageSize": 25, "pageNumber": page}, "order": "desc"})
    if not ids:
        raise SystemExit("check_contract: the details query found no conversations")

    messaging = []
    for conversation_id in ids:
        document = call("conversation", "Conversation", conversations.get_conversation, conversation_id)
        if document and any(p.get("messages") for p in document.get("participants", [])):
            messaging.append(conversation_id)
        call("recordingMetadata", "list[RecordingMetadata]", recording.get_conversation_recordingmetadata,
             conversation_id)
        call("analytics", "AnalyticsConversationWithoutAttributes", analytics.get_analytics_conversation_details,
             conversation_id)
    for start in range(0, len(ids), 10):
        asked = ids[start:start + 10]
        batch = call("analyticsBatch", "AnalyticsConversationWithoutAttributesMultiGetResponse",
                     analytics.get_analytics_conversations_details, id=asked)
        answered = [row.get("conversationId") for row in (batch or {}).get("conversations", [])]
        if answered != asked:
            report.issue("analyticsBatch", "protocol", "$.conversations", "not the conversations asked, in order")

    for conversation_id in messaging:
        document = call("messagingConversation", "MessageConversation", conversations.get_conversations_message,
                        conversation_id)
        message_ids = sorted(set(find_message_ids(document)))
        if not message_ids:
            report.issue("messagingConversation", "protocol", "$.participants[].messages[].messageId",
                         "a messaging conversation lists no message id")
            continue
        bulk = call("bulkMessages", "TextMessageListing", conversations.post_conversations_message_messages_bulk,
                    conversation_id, body=message_ids)
        if sorted(entity.get("id") for entity in (bulk or {}).get("entities", [])) != message_ids:
            report.issue("bulkMessages", "protocol", "$.entities", "not one entity per message id asked")

    submitted = call("jobSubmit", "AsyncQueryResponse", analytics.post_analytics_conversations_details_jobs,
                     {"interval": "2026-01-01T00:00:00.000Z/2026-03-01T00:00:00.000Z"})
    job_id = (submitted or {}).get("jobId")
    if job_id:
        deadline = time.monotonic() + 20
        state = None
        while state != "FULFILLED" and time.monotonic() < deadline:
            status = call("jobStatus", "AsyncQueryStatus", analytics.get_analytics_conversations_details_job, job_id)
            state = (status or {}).get("state")
            if state in ("FAILED", "CANCELLED", "EXPIRED"):
                break
            if state != "FULFILLED":
                time.sleep(0.2)
        cursor = None
        for _ in range(50):
            keywords = {"page_size": 40}
            if cursor:
                keywords["cursor"] = cursor
            page = call("jobResults", "AnalyticsConversationAsyncQueryResponse",
                        analytics.get_analytics_conversations_details_job_results, job_id, **keywords)
            cursor = (page or {}).get("cursor")
            if not cursor:
                break
    call("availability", "DataAvailabilityResponse",
         analytics.get_analytics_conversations_details_jobs_availability)


def find_message_ids(document):
    """The message ids of a messaging conversation where the model has them: participants[].messages[].messageId."""
    for participant in (document or {}).get("participants", []):
        for message in participant.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("messageId"), str):
                yield message["messageId"]


def main():
    global CLIENT_ID, CLIENT_SECRET
    parser = argparse.ArgumentParser(description="Holds convoy mock-server to the Genesys SDK's models.")
    parser.add_argument("--convoy", help="the convoy executable; starts the mock servers itself")
    parser.add_argument("--url", help="a running unlimited mock-server instead (needs --client-id/--client-secret)")
    parser.add_argument("--client-id", default="contract-check")
    parser.add_argument("--client-secret", default="contract-secret")
    parser.add_argument("--schema", default=os.path.join(HERE, "genesys-models.json"))
    parser.add_argument("--sample", type=int, default=60, help="conversations to fetch (default 60)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list each distinct violation")
    arguments = parser.parse_args()
    if not arguments.convoy and not arguments.url:
        parser.error("give --convoy EXECUTABLE or --url URL")
    CLIENT_ID, CLIENT_SECRET = arguments.client_id, arguments.client_secret

    schema = Schema(arguments.schema)
    report = Report()
    correlation_ids = []
    raw = Raw(correlation_ids)
    mock = Mock(convoy=arguments.convoy, url=arguments.url, arguments=[
        "--limit", "0", "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--interval-size", "400"])
    try:
        report.documents["token"] += 1
        walk(schema, report, "token", token_document(raw, mock.url, report), "OAuthToken", "$")
        run_sdk(schema, report, mock.url, raw, arguments.sample)
    finally:
        mock.stop()
    if arguments.convoy:
        check_429s(schema, report, arguments.convoy, raw)
    else:
        report.skipped["error429"] = "needs --convoy to start limited servers"

    seen = set()
    for correlation in correlation_ids:
        if correlation in seen:
            report.issue("conversation", "protocol", "ININ-Correlation-Id", "a correlation id repeats")
        seen.add(correlation)

    print(f"API contract: convoy mock-server against purecloudplatformclientv2 {schema.version}")
    report.print(arguments.verbose)
    if report.failed():
        print("FAILED: the mock's documents break the SDK's models (see above; -v lists each)")
        return 1
    print("OK: every document follows the models, and the SDK lost no field")
    return 0


if __name__ == "__main__":
    sys.exit(main())

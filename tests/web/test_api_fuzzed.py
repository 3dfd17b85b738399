"""Generated input against every documented operation (schemathesis strategies from the OpenAPI
document, driven by Hypothesis): no input makes the API fail, every answer has a status the document
names, JSON where it says so, and the shape its schema describes. Found so far this way: an id beyond
64 bits answered 500; several operations answered 400s the document did not name."""

from __future__ import annotations

import os

import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from webhelpers import API

# 16 examples an operation keep the suite quick; BDD_FUZZ_EXAMPLES=500 for a deeper run by hand.
EXAMPLES = int(os.environ.get("BDD_FUZZ_EXAMPLES", "16"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
USERS = ("chenguodong", "zhangwei", "gaohongxia")  # an administrator, a chief officer, an assistant


def test_generated_input_gets_a_documented_answer_from_every_operation(app, auth):
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    headers = {user: auth(user) for user in USERS}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 24

    for operation in operations:
        # Valid input and input that breaks the schema (wrong types, out-of-range ids, missing fields).
        @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
        def answers(case):
            for user in USERS:
                if case.path != "/auth/token":
                    case.headers = {**(case.headers or {}), **headers[user]}
                case.validate_response(case.call(), checks=CHECKS)

        answers()

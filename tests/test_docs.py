"""The docs cannot drift: settings ↔ README, error codes ↔ errors.py ↔ API.md, routes ↔ OpenAPI."""

import re
from pathlib import Path

import pytest

from app import store
from app.core import deadline
from app.domain import errors as domain_errors
from app.settings import SETTINGS
from app.web import errors

REPO = Path(__file__).parents[1]
API_MD = Path(__file__).parents[2] / "shared/spec/API.md"
TABLE_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*([a-z_]+)\s*\|", re.MULTILINE)
SPEC_CODE = re.compile(r"`([1-5]\d\d) ([a-z][a-z_]*)`")


def _error_classes():
    """{code: status} of every ApiError subclass, however deep."""
    found, todo = {}, list(errors.ApiError.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        assert found.setdefault(cls.code, cls.status) == cls.status, cls
    return found


def _docstring_table():
    rows = TABLE_ROW.findall(errors.__doc__)
    assert rows, "errors.py's docstring has no | status | code | table"
    return {code: int(status) for status, code in rows}


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_documented_in_the_readme(name):
    assert f"`BOOKING_{name}`" in (REPO / "README.md").read_text()


def test_every_code_in_the_errors_table_is_a_class_with_that_status():
    classes = _error_classes()
    for code, status in _docstring_table().items():
        assert classes.get(code) == status, f"{status} {code} is in the table but not a class"


def test_every_error_class_is_in_the_errors_table():
    table = _docstring_table()
    for code, status in _error_classes().items():
        assert table.get(code) == status, f"{status} {code} is a class but not in the table"


def _subclasses(cls):
    found, todo = [], [cls]
    while todo:
        found.append(todo.pop())
        todo += found[-1].__subclasses__()
    return found


def test_every_domain_error_is_answered_by_the_table_with_its_own_code():
    """A domain or storage refusal keeps its code on the wire (errors.DOMAIN_ERRORS)."""
    raised = _subclasses(domain_errors.DomainError)[1:] + [store.RowMissing]
    for cls in raised:
        answer = errors.from_domain(cls("Refused."))
        assert answer is not None, f"{cls.__name__} is not in errors.DOMAIN_ERRORS"
        assert answer.code == cls.code, cls
    answer = errors.from_domain(deadline.DeadlinePassed("Too slow."))
    assert (answer.code, answer.status) == ("request_too_expensive", 503)
    assert answer.headers == {"Retry-After": "5"}


@pytest.mark.skipif(not API_MD.exists(), reason="the shared spec is not beside the repository")
def test_every_code_api_md_names_is_a_class_with_that_status():
    spec = sorted(set(SPEC_CODE.findall(API_MD.read_text())))
    assert ("422", "validation_error") in spec, "the pattern no longer finds API.md's codes"
    classes = _error_classes()
    missing = [f"{status} {code}" for status, code in spec if classes.get(code) != int(status)]
    assert not missing, f"API.md names codes errors.py lacks or answers differently: {missing}"


def test_every_documented_route_is_in_openapi(app, client):
    paths = client.get("/openapi.json").json["paths"]
    checked = 0
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "api_doc", None) is None:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths.get(path, {}), f"{method} {path} is not in /openapi.json"
            checked += 1
    assert checked >= 10


def test_openapi_documents_no_route_the_app_lacks(app, client):
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        served |= {(path, method.lower()) for method in rule.methods}
    paths = client.get("/openapi.json").json["paths"]
    documented = {(path, method) for path, item in paths.items() for method in item}
    assert documented <= served

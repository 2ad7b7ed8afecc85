"""The docs cannot drift: settings, layout ↔ README; error codes ↔ API.md; routes ↔ OpenAPI."""

import ast
import re
from pathlib import Path

import pytest

from app import store
from app.core import deadline
from app.domain import errors as domain_errors
from app.settings import SETTINGS
from app.web import errors
from tests.tools import layout

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


def _product_modules() -> list[Path]:
    """Every module of the product, and the test folders' packages the Layout block lists."""
    found = [p for top in ("app", "sync", "migrations") for p in (REPO / top).rglob("*.py")]
    found += (REPO / "tests").glob("*/__init__.py")
    return sorted(p for p in found if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _product_modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_module_opens_with_a_one_line_summary(path):
    """The Layout block shows each module's first docstring line: it must say the whole thing."""
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring, f"{path.relative_to(REPO)} has no docstring"
    first_paragraph = docstring.split("\n\n")[0]
    assert "\n" not in first_paragraph, (
        f"{path.relative_to(REPO)}: the summary runs over two lines; make its first line a "
        "sentence of its own, then a blank line"
    )


def test_the_readme_layout_is_the_one_the_tree_generates():
    readme = (REPO / "README.md").read_text()
    opening = "from tests.tools.layout import block\ncog.out(block())\n]]] -->\n"
    assert opening in readme, "README.md § Layout lost its cog block"
    shown = readme.split(opening, 1)[1].split("<!-- [[[end]]] -->", 1)[0]
    assert shown == layout.block(), "README.md § Layout is stale: run `make fmt`"


def test_the_docs_never_link_outside_the_repository():
    """The contract beside the repository (../shared) is not shipped: users get README and docs."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for page in pages:
        text = page.read_text()
        assert "../shared" not in text and "shared/spec" not in text, page.relative_to(REPO)

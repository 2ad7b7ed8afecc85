"""The integrator's docs live in the project (issue 15 §5), linked from the README.

The README links every docs/ page, nothing links outside the repository, and every error code
is explained."""

import re
from pathlib import Path

from tests.test_docs import _error_classes

REPO = Path(__file__).parents[1]
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)#]+)")


def test_the_readme_links_every_docs_page_and_they_exist():
    readme = (REPO / "README.md").read_text()
    linked = {target for target in LINK.findall(readme) if target.startswith("docs/")}
    pages = {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert {"docs/auth.md", "docs/errors.md", "docs/pagination.md", "docs/idempotency.md",
            "docs/concurrency.md", "docs/sync.md"} <= pages  # fmt: skip
    assert pages <= linked | {"docs/README.md"} and "docs/README.md" in linked
    for page in DOCS.glob("*.md"):
        for target in LINK.findall(page.read_text()):
            if not target.startswith("http"):
                assert (page.parent / target).exists(), f"{page.name} links {target}"


def test_no_doc_points_outside_the_repository():
    for page in [REPO / "README.md", *DOCS.glob("*.md")]:
        assert "../shared" not in page.read_text(), page.name


def test_every_error_code_is_explained_for_integrators():
    text = (DOCS / "errors.md").read_text()
    missing = [code for code in _error_classes() if code not in text]
    assert not missing, f"docs/errors.md does not explain {missing}"


def test_the_reference_is_served_offline(client):
    page = client.get("/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '"url": "/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/docs/") for asset in assets), assets  # no CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        response = client.get(f"/docs/{asset}")
        response.close()
        assert response.status_code == 200, asset

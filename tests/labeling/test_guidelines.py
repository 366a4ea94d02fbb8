"""The guidelines: the topics that explain agreed, approved and gold lines, the page's table of
contents, the row of topic links under the line forms, and the release README's copy."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import guidelines
from labeling.models import Document, Line

pytestmark = pytest.mark.django_db

LINK_ROW = Path(__file__).resolve().parents[2] / "templates/labeling/_guidelines_link.html"
ROW_TOPICS = ["harakat", "ligatures", "damage", "digits", "breaks", "agreed", "gold"]


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


def topic_links(page: str) -> list[str]:
    """The anchors the row of guideline links points to, in its order."""
    match = re.search(r'<nav class="meta guidelines-links"[^>]*>(.*?)</nav>', page, re.S)
    assert match, "no row of guideline links on the page"
    return re.findall(r'href="/guidelines/#([\w-]+)"', match.group(1))


def test_version_2_explains_agreed_approved_and_gold_lines() -> None:
    assert guidelines.VERSION == 2
    rules = {rule.key: rule for rule in guidelines.RULES}
    assert "consensus" in str(rules["agreed"].text)
    assert "moderator" in str(rules["approved"].text)
    gold = str(rules["gold"].text)
    assert "already known" in gold and "held back" in gold
    assert len(rules) == len(guidelines.RULES)  # keys are unique: each is an anchor


def test_the_page_has_a_table_of_contents_naming_every_topic(client: Client) -> None:
    page = client.get(reverse("labeling:guidelines")).content.decode()
    toc = re.search(r'<nav class="toc"[^>]*>(.*?)</nav>', page, re.S)
    assert toc, "no table of contents"
    for rule in guidelines.RULES:
        assert f'<a href="#{rule.key}">{rule.title}</a>' in toc.group(1)
        assert f'<dt id="{rule.key}">' in page
    assert "Gold (test) lines" in page and "Agreed lines" in page and "Approved lines" in page
    assert f'href="{reverse("labeling:tutorial")}"' in page
    assert "Version 2." in page


def test_the_link_row_points_only_at_topics_that_exist() -> None:
    keys = {rule.key for rule in guidelines.RULES}
    linked = re.findall(r"#([\w-]+)\"", LINK_ROW.read_text(encoding="utf-8"))
    assert linked == ROW_TOPICS
    assert set(linked) <= keys


def test_the_line_editor_links_to_the_topics(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    line = read_document().pages.get().lines.first()
    assert line is not None
    page = client_for(user).get(reverse("labeling:line", args=[line.pk])).content.decode()
    assert topic_links(page) == ROW_TOPICS
    # Under the form: after its closing tag.
    assert page.index('class="meta guidelines-links"') > page.index("</form>")


def test_the_queue_links_to_the_topics(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,), blind_share=0.0)
    client = client_for(user)
    lease = client.get(reverse("labeling:label_next"))
    page = client.get(lease["Location"]).content.decode()
    assert topic_links(page) == ROW_TOPICS
    assert page.count(f'href="{reverse("labeling:guidelines")}"') == 2  # top bar, link row


def test_the_release_readme_carries_the_new_topics() -> None:
    readme = guidelines.as_markdown()
    for title in ("Agreed lines", "Approved lines", "Gold (test) lines"):
        assert f"- **{title}.**" in readme

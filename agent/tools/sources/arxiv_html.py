"""Reading a paper from arXiv's HTML (LaTeXML) rendering, section by section.

The model usually wants one part of a paper (the training setup, a results table,
the appendix with hyperparameters), not all forty pages. LaTeXML marks sections
with `<section class="ltx_section">` and numbered `<h2 class="ltx_title">`
headings, so a paper can be listed by its numbered sections and read one at a
time, with math kept as LaTeX and tables as Markdown tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.tools.http import html_to_markdown, tidy
from agent.tools.spec import ToolError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

_SECTION_CLASSES = ("ltx_section", "ltx_appendix", "ltx_bibliography")
_SUB_CLASSES = ("ltx_subsection", "ltx_subsubsection")


@dataclass
class Section:
    number: str
    title: str
    depth: int
    node: Tag

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()


@dataclass
class Paper:
    title: str
    abstract: str
    sections: list[Section]
    tables: list[str]


def parse_paper(html: str) -> Paper:
    """The title, abstract, sections (with subsections) and table captions of a paper."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    _math_to_latex(soup)
    title_node = soup.find(class_="ltx_title_document") or soup.find("title")
    title = _text(title_node) if title_node else ""
    abstract_node = soup.find(class_="ltx_abstract")
    abstract = ""
    if abstract_node:
        heading = abstract_node.find(class_="ltx_title_abstract")
        if heading:
            heading.decompose()
        abstract = html_to_markdown(str(abstract_node))
    sections: list[Section] = []
    for node in soup.find_all("section"):
        classes = list(node.get("class") or [])
        if any(c in classes for c in _SECTION_CLASSES):
            sections.append(_section(node, 0))
        elif any(c in classes for c in _SUB_CLASSES):
            depth = 1 if "ltx_subsection" in classes else 2
            sections.append(_section(node, depth))
    tables = [_text(c) for t in soup.find_all(class_="ltx_table") if (c := t.find("figcaption"))]
    return Paper(title=title, abstract=abstract, sections=sections, tables=tables)


def _math_to_latex(soup: BeautifulSoup) -> None:
    """MathML reads as noise once flattened; its LaTeX source (alttext) reads well."""
    for math in soup.find_all("math"):
        latex = math.get("alttext") or math.get_text(" ", strip=True)
        inline = math.get("display") != "block"
        math.replace_with(f"${latex}$" if inline else f"\n$${latex}$$\n")


def _section(node: Tag, depth: int) -> Section:
    heading = node.find(re.compile(r"^h[1-6]$"))
    number, title = "", ""
    if heading:
        title = _text(heading)
        tag = heading.find(class_="ltx_tag")
        if tag:
            tag_text = _text(tag)
            number = re.sub(r"^(Appendix|Section)\s+", "", tag_text).rstrip(".")
            title = title.removeprefix(tag_text).strip()
    if not title and "ltx_bibliography" in (node.get("class") or []):
        title = "References"
    return Section(number=number, title=title, depth=depth, node=node)


def _text(node: Tag) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def outline(paper: Paper) -> str:
    """The paper's table of contents, numbered so the model can ask for one part."""
    lines = [f"# {paper.title}" if paper.title else "# (untitled)", ""]
    if paper.abstract:
        lines += ["## Abstract", paper.abstract, ""]
    lines.append("## Sections")
    lines += [f"{'  ' * s.depth}- {s.label}" for s in paper.sections]
    if paper.tables:
        lines += ["", "## Tables"]
        lines += [f"- {caption[:160]}" for caption in paper.tables]
    return "\n".join(lines)


def find_section(paper: Paper, wanted: str) -> Section:
    """A section by number ('4', '4.2', 'A') or by name, exact before partial."""
    key = wanted.strip().lower().rstrip(".")
    key = re.sub(r"^(section|appendix)\s+", "", key)
    for match in (
        lambda s: s.number.lower() == key,
        lambda s: s.title.lower() == key,
        lambda s: s.label.lower() == key,
        lambda s: key in s.title.lower(),
    ):
        found = [s for s in paper.sections if match(s)]
        if found:
            return min(found, key=lambda s: s.depth)
    names = ", ".join(s.label for s in paper.sections if s.depth == 0) or "none found"
    raise ToolError(f"no section '{wanted}' in this paper; sections: {names}")


def section_text(section: Section) -> str:
    """A section as Markdown, tables included."""
    return tidy(html_to_markdown(str(section.node)))


def full_text(paper: Paper) -> str:
    """The whole paper, top-level sections in order, for reading straight through."""
    parts = [f"# {paper.title}", "## Abstract", paper.abstract]
    parts += [section_text(s) for s in paper.sections if s.depth == 0]
    return "\n\n".join(p for p in parts if p)

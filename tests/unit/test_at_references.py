"""Which `@words` are imports (in memory files) and mentions (in requests)."""

from __future__ import annotations

from agent.core.mentions import mentions, typed_text
from agent.extensions.memory import imports


def test_imports_are_paths_outside_code_and_addresses():
    text = (
        "Read @docs/guide.md. Then @notes.md, and @a/b/c.\n"
        "Mail ops@example.com or @someone; `@inline.md` is code.\n"
        "```\n@fenced.md\n```\n"
        "@docs/guide.md again\n"
    )
    assert imports(text) == ["docs/guide.md", "notes.md", "a/b/c"]


def test_mentions_drop_sentence_punctuation_and_skip_code():
    text = "Compare @train.py, @eval.py and @plots/loss.png. Ask bob@example.com (`@user`)."
    assert mentions(text) == ["train.py", "eval.py", "plots/loss.png"]
    assert mentions("see @hf:papers://2401.00001") == ["hf:papers://2401.00001"]


def test_the_typed_text_leaves_the_attachments_out():
    attached = 'fix @a.py\n\n<attachment path="/w/a.py">\n1\tx = 1\n</attachment>'
    assert typed_text(attached) == "fix @a.py"
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    assert typed_text([{"type": "text", "text": "and @p.png"}, image]) == "and @p.png"

"""Slack's limits as one test helper: `assert_valid_message(message)`.

Every builder test runs its output through this. Each block must
parse with `slack_sdk.models.blocks.Block.parse`, survive a `to_dict()` round trip unchanged
(`to_dict()` runs the SDK's validators and raises SlackObjectFormationError), and respect the
limits the SDK does not check: blocks per message, field length, plain-text headers, one
table, the total text budget, the `text` fallback and the payload size. Continuation messages
are checked the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.models.blocks import Block

from bot.render.message import Message

MAX_BLOCKS = 50  # messages (Home tabs and modals: 100)
MAX_SECTION_TEXT = 3_000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
MAX_TABLE_TEXT = 10_000
MAX_TOTAL_TEXT = 10_000  # msg_blocks_too_long was seen at 12-13k
MAX_FALLBACK_TEXT = 4_000  # Slack truncates at 40,000; msg_too_long comes earlier
MAX_PAYLOAD_CHARS = 30_000  # JSON of text + blocks: a margin under what chat.postMessage takes
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Special mentions would ping a whole channel; nothing we render may contain one.
_BROADCAST = re.compile(r"<!(here|channel|everyone)\b")
# In mrkdwn, `<` opens a link, mention or date token and `&` an entity; anything else is
# unescaped text that Slack would misread (Slack's "Formatting text for app surfaces" docs).
_TOKEN = re.compile(r"<([^<>]*)>")
_TOKEN_STARTS = ("http://", "https://", "mailto:", "!date^", "#C", "@U", "@W")
_STRAY_AMP = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_valid_message(message: Message) -> None:
    """Fail with a readable message if Slack would reject (or mangle) `message`."""
    _check(message, "message")
    for index, more in enumerate(message.continuation):
        assert not more.continuation, f"continuation[{index}] has its own continuation"
        _check(more, f"continuation[{index}]")


def visible_text(value: Any) -> int:
    """Characters in every `text` string of a block tree (the budget Slack appears to count)."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else visible_text(v)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return sum(visible_text(v) for v in value)
    return 0


def assert_mrkdwn(text: str, where: str = "text") -> None:
    """`text` is well-formed mrkdwn: every <…> a link, mention or date; no stray & < >."""
    for token in _TOKEN.finditer(text):
        inner = token.group(1)
        assert inner.startswith(_TOKEN_STARTS), f"{where}: unexpected <{inner[:40]}>"
    rest = _TOKEN.sub("", text)
    assert "<" not in rest, f"{where}: unescaped < in {text[:80]!r}"
    assert ">" not in rest, f"{where}: unescaped > in {text[:80]!r}"
    assert not _STRAY_AMP.search(text), f"{where}: unescaped & in {text[:80]!r}"


def mrkdwn_texts(value: Any) -> list[str]:
    """Every mrkdwn text object's text in a block tree."""
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" and "text" in value else []
        return own + [t for v in value.values() for t in mrkdwn_texts(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in mrkdwn_texts(v)]
    return []


def _check(message: Message, where: str) -> None:
    assert message.text.strip(), f"{where}: empty text fallback"
    assert_mrkdwn(message.text, f"{where}.text")
    assert len(message.text) <= MAX_FALLBACK_TEXT, f"{where}: text fallback too long"
    blocks = list(message.blocks)
    assert len(blocks) <= MAX_BLOCKS, f"{where}: {len(blocks)} blocks (max {MAX_BLOCKS})"
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), f"{where}: duplicate block_id"
    for index, block in enumerate(blocks):
        _check_block(block, f"{where}.blocks[{index}]")
        for text in mrkdwn_texts(block):
            assert_mrkdwn(text, f"{where}.blocks[{index}]")
    tables = [b for b in blocks if b.get("type") == "table"]
    assert len(tables) <= 1, f"{where}: {len(tables)} tables (one per message)"
    total = visible_text(blocks)
    assert total <= MAX_TOTAL_TEXT, f"{where}: {total} characters of text in blocks"
    payload = json.dumps({"text": message.text, "blocks": blocks}, ensure_ascii=False)
    assert len(payload) <= MAX_PAYLOAD_CHARS, f"{where}: payload of {len(payload)} characters"
    assert not _BROADCAST.search(payload), f"{where}: contains a broadcast mention"
    if message.chart is not None:
        assert message.chart.png.startswith(PNG_SIGNATURE), f"{where}: chart is not a PNG"
        assert message.chart.filename.endswith(".png"), f"{where}: chart filename"
        assert message.chart.title.strip(), f"{where}: chart without a title"


def _check_block(block: dict[str, Any], where: str) -> None:
    parsed = Block.parse(block)  # TypeError when a required argument is missing
    assert parsed is not None, f"{where}: unknown block type {block.get('type')!r}"
    assert parsed.to_dict() == block, f"{where}: changed by a parse/to_dict round trip"
    kind = block["type"]
    if kind == "section":
        fields = block.get("fields", [])
        assert "text" in block or fields, f"{where}: section without text or fields"
        assert len(fields) <= MAX_FIELDS, f"{where}: {len(fields)} fields"
        for field in fields:
            assert field["text"], f"{where}: empty field"
            assert len(field["text"]) <= MAX_FIELD_TEXT, f"{where}: field too long"
        if "text" in block:
            text = block["text"]["text"]
            assert text, f"{where}: empty section text"
            assert len(text) <= MAX_SECTION_TEXT, f"{where}: section text too long"
    elif kind == "header":
        assert block["text"]["type"] == "plain_text", f"{where}: header must be plain_text"
        assert 0 < len(block["text"]["text"]) <= MAX_HEADER_TEXT, f"{where}: header length"
    elif kind == "context":
        elements = block["elements"]
        assert 0 < len(elements) <= MAX_CONTEXT_ELEMENTS, f"{where}: context elements"
        for element in elements:
            text = element.get("text", "")
            assert element.get("type") != "mrkdwn" or text, f"{where}: empty context text"
            assert len(text) <= MAX_SECTION_TEXT, f"{where}: context text too long"
    elif kind == "table":
        _check_table(block, where)


def _check_table(block: dict[str, Any], where: str) -> None:
    rows = block["rows"]
    assert len(rows) <= MAX_TABLE_ROWS, f"{where}: {len(rows)} table rows"
    total = 0
    for row in rows:
        assert len(row) <= MAX_TABLE_CELLS, f"{where}: {len(row)} cells in a row"
        for cell in row:
            text = cell.get("text", "") if cell.get("type") == "raw_text" else ""
            assert cell.get("type") != "raw_text" or text, f"{where}: empty table cell"
            total += len(text) if text else visible_text(cell)
    assert total <= MAX_TABLE_TEXT, f"{where}: {total} characters in table cells"


MAX_VIEW_BLOCKS = 100  # Home tabs and modals
MAX_VIEW_TITLE = 24  # a modal's title, submit and close
MAX_PRIVATE_METADATA = 3_000
MAX_VIEW_PAYLOAD = 250_000  # views.publish / views.open take up to 250 kB of JSON


def assert_valid_view(view: dict[str, Any]) -> None:
    """Fail with a readable message if Slack would reject `view` (a home tab or a modal):
    slack_sdk's View validators (title, blocks, metadata lengths), each block as in a message
    (round trip, mrkdwn, lengths; elements' own limits through their validators), and the
    limits on the view as a whole."""
    from slack_sdk.models.views import View

    shown = {k: v for k, v in view.items() if not k.startswith("_")}
    parsed = View(**shown)
    parsed.validate_json()
    assert parsed.to_dict() == shown, "view: changed by a parse/to_dict round trip"
    blocks = shown["blocks"]
    assert len(blocks) <= MAX_VIEW_BLOCKS, f"view: {len(blocks)} blocks (max {MAX_VIEW_BLOCKS})"
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids)), "view: duplicate block_id"
    for key in ("title", "submit", "close"):
        if key in shown:
            assert len(shown[key]["text"]) <= MAX_VIEW_TITLE, f"view: {key} too long"
    assert len(shown.get("private_metadata", "")) <= MAX_PRIVATE_METADATA
    for index, block in enumerate(blocks):
        _check_block(block, f"view.blocks[{index}]")
        for text in mrkdwn_texts(block):
            assert_mrkdwn(text, f"view.blocks[{index}]")
    payload = json.dumps(shown, ensure_ascii=False)
    assert len(payload.encode()) <= MAX_VIEW_PAYLOAD, f"view: {len(payload)} characters"
    assert not _BROADCAST.search(payload), "view: contains a broadcast mention"

"""Recent search's query language, the part the simulator supports
(docs/simulator.md#recent-search): keywords, "exact phrases", `#hashtag`, `from:handle` (or a
user ID), `is:retweet`, negation with `-`, implicit AND, `OR` and parentheses; AND binds before
OR, as on X. Any other operator is refused with X's message naming it.

`parse` gives a tree or raises QueryError with X's wording and 1-based position; `matches`
says whether a Post's text and author satisfy it. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.simulator.texts import hashtags_in

OPERATORS_PAGE = (
    "https://developer.twitter.com/en/docs/twitter-api/tweets/search/integrate/build-a-query"
)
_TOKEN = re.compile(
    r'\s*(?:(?P<open>-?\()|(?P<close>\))|(?P<phrase>-?"[^"]*"?)|(?P<word>[^\s()"]+))'
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


class QueryError(ValueError):
    """A query X would refuse; the message is X's, position included."""

    def __init__(self, problem: str, position: int) -> None:
        super().__init__(
            f"There were errors processing your request: {problem} (at position {position})"
        )


@dataclass(frozen=True)
class Term:
    kind: str  # "word", "phrase", "hashtag", "from", "retweet"
    value: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class All:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    nodes: tuple[Node, ...]


Node = Term | Not | All | Any_


@dataclass(frozen=True)
class Subject:
    """What a query is matched against: a Post's text and its author's handle and user ID."""

    text: str
    handle: str
    user_id: str


def matches(node: Node, subject: Subject) -> bool:
    if isinstance(node, Not):
        return not matches(node.node, subject)
    if isinstance(node, All):
        return all(matches(n, subject) for n in node.nodes)
    if isinstance(node, Any_):
        return any(matches(n, subject) for n in node.nodes)
    return _term_matches(node, subject)


def _term_matches(term: Term, subject: Subject) -> bool:
    if term.kind == "hashtag":
        return term.value in hashtags_in(subject.text)
    if term.kind == "from":
        return term.value in (subject.handle.lower(), subject.user_id)
    if term.kind == "retweet":
        return False  # the simulator has no retweets
    if term.kind == "phrase":
        return term.value in subject.text.lower()
    return term.value in {w.lower() for w in _WORD.findall(subject.text)}


# -- parsing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "open", "close", "phrase", "word"
    text: str
    position: int  # 1-based, as X counts
    negated: bool


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while at < len(query):
        found = _TOKEN.match(query, at)
        if found is None or found.end() == at:
            break
        kind = found.lastgroup or "word"
        text = found.group(kind)
        start = found.start(kind)
        negated = text.startswith("-") and len(text) > 1 and kind != "close"
        tokens.append(_Token(kind, text[1:] if negated else text, start + 1, negated))
        at = found.end()
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokens(query)
        self.at = 0
        self.positive = False  # seen a standalone term that is not negated

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def any_of(self) -> Node:
        nodes = [self.all_of()]
        while (token := self.peek()) is not None and token.kind == "word" and token.text == "OR":
            if token.negated:
                raise QueryError(
                    "Ambiguous use of or as a keyword. Use a lowercase or.", token.position
                )
            self.at += 1
            nodes.append(self.all_of())
        return nodes[0] if len(nodes) == 1 else Any_(tuple(nodes))

    def all_of(self) -> Node:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token.kind != "close":
            if token.kind == "word" and token.text == "OR":
                break
            nodes.append(self.unary(token))
        if not nodes:
            token = self.peek()
            position = token.position if token else self._end()
            raise QueryError(
                "There is an empty clause or an operator without an operand.", position
            )
        return nodes[0] if len(nodes) == 1 else All(tuple(nodes))

    def unary(self, token: _Token) -> Node:
        self.at += 1
        if token.kind == "open":
            inner = self.any_of()
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise QueryError("Missing closing parenthesis.", token.position)
            self.at += 1
        else:
            inner = self.term(token)
        return Not(inner) if token.negated else inner

    def term(self, token: _Token) -> Term:
        term = _term(token)
        if not token.negated and term.kind != "retweet":
            self.positive = True
        return term

    def _end(self) -> int:
        last = self.tokens[-1] if self.tokens else None
        return last.position + len(last.text) if last else 1


def _term(token: _Token) -> Term:
    text = token.text
    if token.kind == "phrase":
        if len(text) < 2 or not text.endswith('"'):
            raise QueryError("Missing closing quote.", token.position)
        return Term("phrase", text[1:-1].lower())
    if text.startswith("#") and len(text) > 1:
        tags = hashtags_in(text)
        if len(tags) != 1:
            raise QueryError(f"Invalid hashtag '{text}'.", token.position)
        return Term("hashtag", next(iter(tags)))
    name, colon, value = text.partition(":")
    if colon and name.lower() == "from" and re.fullmatch(r"@?\w{1,20}", value):
        return Term("from", value.lstrip("@").lower())
    if colon and name.lower() == "is" and value.lower() == "retweet":
        return Term("retweet", "")
    if colon or text[0] in "@$":
        operator = text if name.lower() == "is" else (name if colon else text[0])
        raise QueryError(
            f"Reference to invalid operator '{operator}'. Operator is not available in current "
            f"product or product packaging. Please refer to complete available operator list at "
            f"{OPERATORS_PAGE}.",
            token.position,
        )
    return Term("word", text.lower())


def parse(query: str) -> Node:
    """The query's tree; raises QueryError as X words it."""
    parser = _Parser(query)
    node = parser.any_of()
    extra = parser.peek()
    if extra is not None:
        raise QueryError("Unexpected closing parenthesis.", extra.position)
    if not parser.positive:
        # `-is:retweet` and negations only narrow a search: X wants something to match first.
        raise QueryError("Rules must contain a non-negation term.", 1)
    return node

"""What an RPC provider's eth_getLogs error means: split the range, back off, or give up.

Providers cap eth_getLogs three ways, each with its own words (collected from their
answers as published in issues and docs; the words change, so matching is by phrase,
case-insensitive, on the message and the error's data together):

- a block-range cap: Alchemy free tier ("up to a 10 block range"), QuickNode ("eth_getLogs
  is limited to a 10,000 range", code -32614, sent as HTTP 413), Infura ("range 1000000
  exceeds limit of 10000", -32602), Ankr ("block range is too wide", -32600), drpc
  ("ranges over 10000 blocks are not supported on freetier", code 35), Chainstack
  ("Block range limit exceeded."), Polygon's public RPCs and Bor/Erigon/Reth nodes
  ("eth_getLogs block range too large, range: 99991, max: 3500", "exceed maximum block
  range: 50000", "query exceeds max block range 100000"), BlockPI ("limited to 1024
  block range"), thirdweb/Tenderly ("range 20000 is bigger than range limit 2000"), ...
- a result cap: Alchemy ("Log response size exceeded. ... this block range should work:
  [0x.., 0x..]", -32602), Infura and geth/Bor ("query returned more than 10000 results.
  Try with this block range [0x.., 0x..]", -32005), Reth/Ankr/llamarpc ("query exceeds
  max results 20000, retry with the range A-B"), "response size should not greater
  than", "logs matched by query exceeds limit", "backend response too large", and a
  server-side "query timeout exceeded".
- a rate limit: HTTP 429 (with Retry-After), Alchemy (code 429, "exceeded its compute
  units per second capacity"), Infura (-32005 "project ID request rate exceeded", data
  rate.backoff_seconds), QuickNode (-32007 "request limit reached", -32012 "credits
  limited to"), Ankr (-32090 "Too many requests ... retry in 10s"), -32016 "over rate
  limit", drpc/Chainstack "too many requests".

classify() turns one such error into a Verdict; the scanner acts on it. A hint (the
range the provider says will work, or its maximum) is used when given; otherwise the
range is halved."""

from __future__ import annotations

import re
from dataclasses import dataclass

SPLIT_RANGE = "range"  # the block range is too wide
SPLIT_RESULTS = "results"  # too many logs (or too heavy a query) for one answer
RATE_LIMITED = "rate"
TRANSIENT = "transient"  # a gateway error (502/503/504): try again after a pause
FATAL = "fatal"


@dataclass(frozen=True)
class Verdict:
    kind: str
    max_span: int | None = None  # the widest block span (to - from + 1) the provider says it accepts
    wait: float | None = None  # seconds the provider asked us to wait


_NUM = r"([\d][\d,._]*)"

# A maximum span the provider names. Order matters: the first match wins.
_RANGE_MAX = [
    re.compile(p, re.I) for p in (
        r"block range too large, range: \d+, max: " + _NUM,
        r"range \d+ exceeds limit of " + _NUM,
        r"range \d+ is bigger than range limit " + _NUM,
        r"ranges over " + _NUM + r" blocks are not supported",
        r"limited to an? " + _NUM,
        r"limited to " + _NUM + r" blocks?",
        r"up to an? " + _NUM + r" block range",
        r"max(?:imum)? block range(?: is| of| =|:)? ?" + _NUM,
        r"max range: " + _NUM,
        r"maximum is set to " + _NUM,
        r"maximum allowed number of requested blocks is " + _NUM,
        r"limit the query to at most " + _NUM + r" blocks",
        r"block range is too wide \(maximum " + _NUM + r"\)",
        r"block range greater than " + _NUM + r" max",
        r"block range exceeds " + _NUM,
        r"maximum \[from, to\] blocks distance: " + _NUM,
        r"exceeds the range allowed for your plan \(\d+ > " + _NUM + r"\)",
        r"range is too large, max is " + _NUM + r"k blocks",
    )
]
# A range the provider suggests: (from, to), hex or decimal.
_SUGGESTED = [
    re.compile(r"block range should work: \[(0x[0-9a-f]+),\s*(0x[0-9a-f]+)\]", re.I),
    re.compile(r"try with this block range \[(0x[0-9a-f]+),\s*(0x[0-9a-f]+)\]", re.I),
    re.compile(r"retry with the range (\d+)-(\d+)", re.I),
]
_RANGE_WORDS = re.compile(
    r"block range|blocks range|range limit|range is too|range too|too many blocks|requested too many blocks"
    r"|ranges over|exceed(?:s|ed)? (?:the )?(?:max(?:imum)? )?(?:block )?range|range between to and from", re.I)
_RESULT_WORDS = re.compile(
    r"more than \d+ results|max results|too many (?:results|logs)|response size|response too large"
    r"|exceeds limit of \d+ logs|logs matched by query exceeds|query timeout exceeded|result window is too large", re.I)
_RATE_WORDS = re.compile(
    r"rate.?limit|too many requests?|request rate|requests? limit|limit reached|compute units per second"
    r"|credits limited|capacity|throughput|exceeded .*quota|daily request count|try again later|retry in \d+", re.I)
_RATE_CODES = {429, -32005, -32007, -32012, -32016, -32090}
_WAIT = [
    re.compile(r"retry in (\d+(?:\.\d+)?) ?s", re.I),
    re.compile(r'"backoff_seconds":\s*(\d+(?:\.\d+)?)', re.I),
    re.compile(r"try again in (\d+(?:\.\d+)?) ?s", re.I),
]


def _number(text: str) -> int:
    return int(re.sub(r"[,._]", "", text))


def classify(text: str, *, code: int | None = None, status: int | None = None,
             retry_after: float | None = None, span: int | None = None) -> Verdict:
    """What to do about one failed eth_getLogs. `text` is the provider's message (and
    data), `span` the width of the range that failed (to bound a suggested range)."""
    text = text or ""
    wait = retry_after
    for pattern in _WAIT:
        m = pattern.search(text)
        if m and wait is None:
            wait = float(m.group(1))
    # Range and result caps first: Infura's -32005 means both "too many results" and
    # "rate limited", and only the words tell them apart.
    suggested = None
    for pattern in _SUGGESTED:
        m = pattern.search(text)
        if m:
            a, b = (int(g, 16) if g.lower().startswith("0x") else int(g) for g in m.groups())
            if b >= a:
                suggested = b - a + 1
                break
    for i, pattern in enumerate(_RANGE_MAX):
        m = pattern.search(text)
        if m:
            limit = _number(m.group(1)) * (1000 if i == len(_RANGE_MAX) - 1 else 1)  # the last one says "10k"
            return Verdict(SPLIT_RANGE, max_span=max(1, min(limit, suggested or limit)))
    if suggested is not None:
        return Verdict(SPLIT_RESULTS, max_span=suggested)
    if _RESULT_WORDS.search(text):
        return Verdict(SPLIT_RESULTS)
    if _RANGE_WORDS.search(text):
        return Verdict(SPLIT_RANGE)
    if status == 429 or code == 429 or _RATE_WORDS.search(text) or (code in _RATE_CODES and "limit" in text.lower()):
        return Verdict(RATE_LIMITED, wait=wait)
    if status in (502, 503, 504) or (code == -32603 and "timeout" in text.lower()):
        return Verdict(TRANSIENT, wait=wait)
    if status == 413:  # payload too large: the answer would have been too big
        return Verdict(SPLIT_RESULTS)
    return Verdict(FATAL)

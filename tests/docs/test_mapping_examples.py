"""Every example in docs/mapping.md runs through the mapping and gives what the page says.

The page's fenced blocks say what they are by their info string:

- ```` ```toml ````: a job's ``[target]`` table; it is parsed (``parse_target``) and is the
  mapping of the examples after it.  ```` ```toml defaults ````: a connector's default
  mapping, merged under the next ``toml`` block.  ```` ```toml source ````: a
  ``cms_generic`` ``[source]`` table, validated by the connector.
- ```` ```json record ```` (optionally ``record STREAM``): one source record, mapped
  by the current mapping; the next block says what comes out:
  ```` ```json writes ```` (the profile's fields, ``source_id``, each collection's
  subprofiles, warnings) or ```` ```text dead-letter ```` (the exact reason).
- ```` ```json records ````: several records of one profile, then ```` ```json
  aggregates ````: the aggregate fields the engine computes from them.
- ```` ```text config-error ````: after a ``toml`` block: it is refused, and each line
  of the block is one of the problems reported.

Any other block (```` ```text ````, no info string) is prose.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from copernica_sdk.sync._expressions import KNOWN_TRANSFORMS
from copernica_sdk.sync.errors import ConfigError, MappingError
from copernica_sdk.sync.mapping import FIELD_TYPES, StreamMapping, TargetMapping, parse_target
from copernica_sync.connectors.cms_generic import GenericCmsConnector

PAGE = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    line: int
    kind: str       # "toml", "toml defaults", "json record", …
    arg: str        # the stream after "record"/"records", else ""
    body: str

    @property
    def where(self) -> str:
        return f"docs/mapping.md:{self.line}"


def blocks(text: str) -> list[Block]:
    out = []
    for match in FENCE.finditer(text):
        words = match["info"].split()
        kind = " ".join(words[:2])
        arg = words[2] if len(words) > 2 else ""
        out.append(Block(text.count("\n", 0, match.start()) + 1, kind, arg, match["body"]))
    return out


def rendered(mapping: StreamMapping, record: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a mapped record."""
    mapped = mapping.apply(record)
    out: dict[str, Any] = {"profile": dict(mapped.profile.fields)}
    if mapped.profile.source_id is not None:
        out["source_id"] = mapped.profile.source_id
    collections: dict[str, list[dict[str, str]]] = {}
    for sub in mapped.subprofiles:
        collections.setdefault(sub.collection, []).append(dict(sub.fields))
    if collections:
        out["collections"] = collections
    if mapped.warnings:
        out["warnings"] = list(mapped.warnings)
    return out


def aggregated(mapping: StreamMapping, records: list[dict[str, Any]]) -> dict[str, str]:
    assert mapping.aggregates is not None, "a records block needs a stream with aggregates"
    mapped = [mapping.apply(r) for r in records]
    assert len({m.profile.key for m in mapped}) == 1, "the records must share one profile"
    return mapping.aggregates.combine(m.facts or {} for m in mapped)


def stream_of(target: TargetMapping, block: Block) -> StreamMapping:
    if block.arg:
        return target.streams[block.arg]
    assert len(target.streams) == 1, f"{block.where}: name the stream (```json record NAME)"
    return next(iter(target.streams.values()))


def run_page(text: str) -> int:
    """Check every example of a page; returns how many expectations were checked."""
    checked = 0
    target: TargetMapping | None = None
    defaults: dict[str, Any] = {}
    pending: tuple[Block, Any] | None = None  # a record(s) block waiting for its answer
    items = blocks(text)
    for i, block in enumerate(items):
        following = items[i + 1].kind if i + 1 < len(items) else ""
        if block.kind == "toml defaults":
            defaults = tomllib.loads(block.body)["target"]
        elif block.kind == "toml source":
            GenericCmsConnector.validate_config(tomllib.loads(block.body)["source"])
            checked += 1
        elif block.kind == "toml":
            table = tomllib.loads(block.body).get("target")
            assert table is not None, f"{block.where}: a toml example holds a [target] table"
            if following == "text config-error":
                with pytest.raises(ConfigError) as error:
                    parse_target(table, defaults)
                wanted = [line.strip() for line in items[i + 1].body.splitlines()
                          if line.strip()]
                for line in wanted:
                    assert line in error.value.problems, \
                        f"{items[i + 1].where}: {line!r} not in {error.value.problems}"
                checked += 1
                target = None
            else:
                target = parse_target(table, defaults)
            defaults = {}
        elif block.kind in ("json record", "json records"):
            assert target is not None, f"{block.where}: no mapping above this record"
            pending = (block, json.loads(block.body))
        elif block.kind in ("json writes", "json aggregates", "text dead-letter"):
            assert pending is not None and target is not None, \
                f"{block.where}: no record above this result"
            source, data = pending
            mapping = stream_of(target, source)
            if block.kind == "json writes":
                assert rendered(mapping, data) == json.loads(block.body), block.where
            elif block.kind == "json aggregates":
                assert aggregated(mapping, data) == json.loads(block.body), block.where
            else:
                with pytest.raises(MappingError) as error:
                    mapping.apply(data)
                assert str(error.value) == block.body.strip(), block.where
            checked += 1
            pending = None
        elif block.kind == "text config-error":
            continue  # checked with its toml block
        else:
            assert not block.kind.startswith(("json", "toml")), \
                f"{block.where}: unknown example block {block.kind!r}"
        if block.kind in ("json record", "json records"):
            assert following in ("json writes", "json aggregates", "text dead-letter"), \
                f"{block.where}: a record is followed by what it gives"
    return checked


def test_every_example_in_the_mapping_reference_gives_what_the_page_says() -> None:
    assert run_page(PAGE.read_text(encoding="utf-8")) >= 20


def test_a_wrong_documented_result_fails_the_page() -> None:
    page = ('```toml\n[target]\ndatabase = "Shop"\n[target.streams.s.profile]\n'
            'key = "email | normalize_email"\n```\n```json record\n{"email": "A@x.nl"}\n```\n'
            '```json writes\n{"profile": {"customer_key": "A@x.nl"}}\n```\n')
    with pytest.raises(AssertionError, match=r"docs/mapping\.md:10"):
        run_page(page)
    assert run_page(page.replace('"A@x.nl"}}', '"a@x.nl"}}')) == 1


def test_the_reference_lists_every_transform_and_field_type() -> None:
    text = PAGE.read_text(encoding="utf-8")
    missing = [t for t in KNOWN_TRANSFORMS if f"`{t}" not in text]
    missing += [t for t in sorted(FIELD_TYPES) if f"`{t}`" not in text]
    assert not missing

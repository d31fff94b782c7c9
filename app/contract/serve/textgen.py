"""Generators on bodies written as text: form fields (`$.id`) and XML attributes and text (`$.a.b['@id']`,
`$.a.b['#text']`). The body is read, the values the generators reach replaced, and the body written again.

XML locations are the ones the XML matcher uses (xmlbody.py), so a generator reaches what a rule with the
same path would: `$.root.item['#text']` every item's text, `$.root.item[1]['#text']` the second one's; an
element of a prefixed namespace is named with its prefix (`$.root['n:other']`), as the reference names it.
A path that stops at an element (`$.root.item`) reaches nothing, as in the reference.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..match.rulepaths import INDEX_STAR, STAR, Location, parse_path, xml_path_weight
from ..match.xmlbody import local_name
from ..model import Body

# generate(category, key, definition, current value) -> the generated value
Generate = Callable[[str, str, dict[str, Any], Any], Any]


def text_body_kind(body: Body) -> str | None:
    """ "form" or "xml" for a body whose generators work on its text; None for JSON, plain text and bytes."""
    if not isinstance(body.value, str | bytes):
        return None
    media = (body.content_type or "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media.endswith("/xml") or media.endswith("+xml"):
        return "xml"
    if not media and isinstance(body.value, str) and body.value.lstrip().startswith("<"):
        return "xml"
    return None


def generate_in_text(kind: str, value: str | bytes, generators: dict[str, dict[str, Any]], generate: Generate) -> Any:
    """A form or XML body (``kind``) with every value a generator reaches replaced, written as text again."""
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    if kind == "form":
        return _in_form(text, generators, generate)
    return _in_xml(text, generators, generate)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _in_form(text: str, generators: dict[str, dict[str, Any]], generate: Generate) -> str:
    fields = parse_qsl(text, keep_blank_values=True)
    changed = False
    for key, definition in generators.items():
        tokens = parse_path(key) if key.strip() else ()
        if not tokens or len(tokens) > 2:
            continue
        name, index = tokens[0], tokens[1] if len(tokens) == 2 else INDEX_STAR
        seen: dict[str, int] = {}
        for position, (field, current) in enumerate(fields):
            number = seen[field] = seen.get(field, -1) + 1
            if name not in (STAR, field) or index not in (INDEX_STAR, STAR, number):
                continue
            fields[position] = (field, _text(generate("body", key, definition, current)))
            changed = True
    return urlencode(fields) if changed else text


def _in_xml(text: str, generators: dict[str, dict[str, Any]], generate: Generate) -> str:
    try:
        root = ET.fromstring(text)
        namespaces = [found for _, found in ET.iterparse(io.StringIO(text), events=("start-ns",))]
    except ET.ParseError:
        return text  # served as written: the matchers report what is wrong with it
    rules = [(key, parse_path(key), definition) for key, definition in generators.items() if key.strip()]
    prefixes = {uri: prefix for prefix, uri in reversed(namespaces)}
    changed = False
    for location, element, part in _places(root, (_name(root.tag, prefixes),), prefixes):
        for key, tokens, definition in rules:
            weight, exact = xml_path_weight(tokens, location)
            if not weight or not exact:
                continue
            if part == "#text":
                element.text = _text(generate("body", key, definition, element.text or ""))
            else:
                element.set(part, _text(generate("body", key, definition, element.get(part, ""))))
            changed = True
    if not changed:
        return text
    for prefix, uri in namespaces:
        ET.register_namespace(prefix, uri)  # written back with the prefixes the contract uses
    written = ET.tostring(root, encoding="unicode")
    stripped = text.lstrip()
    if stripped.startswith("<?xml"):
        written = stripped[: stripped.index("?>") + 2] + written
    return written


def _name(tag: str, prefixes: dict[str, str]) -> str:
    """An element's name as the contract writes it: `n:other` for a prefixed namespace, as the reference does."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    prefix = prefixes.get(uri, "")
    return f"{prefix}:{local}" if prefix else local


def _places(
    element: ET.Element, location: Location, prefixes: dict[str, str]
) -> list[tuple[Location, ET.Element, str]]:
    """Every attribute and text of the element and its descendants, with its location and the name to set."""
    places: list[tuple[Location, ET.Element, str]] = [(location + ("#text",), element, "#text")]
    places += [(location + ("@" + local_name(name),), element, name) for name in element.attrib]
    counts: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        name = _name(child.tag, prefixes)
        index = counts[name] = counts.get(name, -1) + 1
        places += _places(child, (*location, name, index), prefixes)
    return places

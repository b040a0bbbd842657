"""JSON Lines that every line reader splits the same way.

``json.dumps(..., ensure_ascii=False)`` keeps U+2028, U+2029, U+0085 and the other characters
that Python's ``str.splitlines`` and JavaScript treat as line breaks. Real pages carry them
(Word pastes, CMS editors), so a record written raw would split in two for such a reader.
Inside JSON they can only stand in strings, where a ``\\uXXXX`` escape means the same text.
"""

from __future__ import annotations

import json
import re
from typing import Any

# The line breaks str.splitlines() knows beyond the control characters, which json.dumps
# already escapes.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` (UTF-8 text kept readable) with the line-break characters escaped."""
    text = json.dumps(value, ensure_ascii=False, **options)
    return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

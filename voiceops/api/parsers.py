"""A parser for raw ``text/csv`` request bodies (recipient uploads)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class CsvTextParser(BaseParser):
    media_type = "text/csv"

    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> str:
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ParseError("The CSV body is not UTF-8 text.")

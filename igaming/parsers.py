"""Request parsing shared by every API that takes money."""

import codecs
import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number")


def json_loads_exact(text: str | bytes):
    """JSON with every fractional number an exact Decimal, never a float; NaN and Infinity refused.

    Raises ValueError (UnicodeDecodeError included) for anything that is not such JSON.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


class DecimalJSONParser(JSONParser):
    """JSON with every fractional number parsed as an exact Decimal, never a float; NaN and Infinity refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_exact(codecs.getreader(encoding)(stream).read())
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None

"""The API's JSON parser, in a module of its own.

DRF reads DEFAULT_PARSER_CLASSES while `rest_framework.views` is being imported, so the parser
must not live in a module that itself imports `rest_framework.views` (config.api does): that
is an import cycle which breaks whichever of the two is imported first.
"""

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from common.hostile import HostileInput, loads


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind common.hostile's policy: too deep, NaN or Infinity is a 400 parse_error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return loads(stream.read() if stream is not None else b"")
        except HostileInput as refused:
            raise exceptions.ParseError(refused.message, code="parse_error") from refused

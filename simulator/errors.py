"""Walmart's error envelope and the error the simulator raises to produce one."""

from __future__ import annotations

from flask import Response, jsonify

INFO = {"INVALID_REQUEST_CONTENT": "Request content is invalid.",
        "INVALID_REQUEST_HEADER": "One or more request headers are invalid.",
        "INVALID_REQUEST_PARAM": "One or more request parameters are invalid.",
        "UNAUTHORIZED": "Unauthorized token or incorrect authorization header.",
        "FORBIDDEN": "Forbidden.",
        "CONTENT_NOT_FOUND": "Requested content could not be found.",
        "REQUEST_THRESHOLD_VIOLATED": "Request threshold violated.",
        "SYSTEM_ERROR": "System encountered some internal error.",
        "UNSUPPORTED_MEDIA_TYPE": "Unsupported media type.",
        "INVALID_ACCEPT_TYPE": "Invalid accept type."}
CATEGORY = {400: "DATA", 401: "DATA", 403: "DATA", 404: "APPLICATION", 406: "APPLICATION",
            415: "DATA", 429: "REQUEST", 500: "SYSTEM", 503: "SYSTEM"}


class WalmartFault(Exception):
    """Raised anywhere in a handler; rendered as Walmart's nested error body."""

    def __init__(self, status: int, code: str, description: str, field: str = "data",
                 service: str = "GMP_ORDER_API", severity: str = "ERROR",
                 headers: dict | None = None, bare: bool = False) -> None:
        super().__init__(description)
        self.bare = bare  # a bare status line and text, without Walmart's error envelope
        self.status, self.code, self.description = status, code, description
        self.field, self.service, self.severity = field, service, severity
        self.headers = headers or {}

    def response(self) -> Response:
        if self.bare:
            return Response(self.description, status=self.status, mimetype="text/plain",
                            headers=self.headers)
        body = {"errors": {"error": [{
            "code": f"{self.code}.{self.service}", "field": self.field,
            "description": self.description, "info": INFO.get(self.code, ""),
            "severity": self.severity, "category": CATEGORY.get(self.status, "DATA"),
            "causes": [], "errorIdentifiers": {"entry": []}}]}}
        response = jsonify(body)
        response.status_code = self.status
        for name, value in self.headers.items():
            response.headers[name] = value
        return response


def bad_content(description: str, field: str = "data") -> WalmartFault:
    return WalmartFault(400, "INVALID_REQUEST_CONTENT", description, field)

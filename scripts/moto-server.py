"""Start moto's server with one request handled at a time.

moto_server handles requests on threads and its DynamoDB checks a
condition and then writes without a lock, so two conditional writes that
arrive together can both succeed: two runs would both take one lock, which
DynamoDB never allows. Serialising the requests gives moto the atomic
conditional writes of the real service; moto is bound by Python's global
interpreter lock anyway, so little throughput is lost. Connections are
still accepted, and request bodies read, on threads: a slow client holds
up no other request.

Usage: python moto-server.py HOST PORT
"""

import io
import os
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


class Serialised:
    """A WSGI app that runs the wrapped app for one request at a time and
    reads its whole response under the same lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        # Read the request's body before taking the lock, so that a client
        # slow to send it holds up no other request.
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit():
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(int(length)))
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(host, port, Serialised(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

"""A small HTTP(S) file server: `python -m orbit_sim.file_server [HOST:]PORT DIR [CERT KEY]`.

The demo and the conformance suite start it under the launcher on the listener side; with
a certificate it speaks TLS, so a client verifies the server's name end to end through the
tunnel. It listens on 127.0.0.1 unless HOST is given (a listener on another machine than
its access point). `orbit_sim.testing.file_server_argv()` builds its command line.
"""

import functools
import http.server
import ssl
import sys


def main() -> None:
    host, _, port = sys.argv[1].rpartition(":")
    directory = sys.argv[2]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    server = http.server.ThreadingHTTPServer((host or "127.0.0.1", int(port)), handler)
    if len(sys.argv) == 5:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

"""A small HTTP(S) file server: `https_server.py PORT DIR [CERT_PEM KEY_PEM]`.

Started under the launcher on the listener side; with a certificate it speaks TLS, so a
client verifies the server's name end to end through the tunnel.
"""

import functools
import http.server
import ssl
import sys


def main() -> None:
    port, directory = int(sys.argv[1]), sys.argv[2]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    if len(sys.argv) == 5:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

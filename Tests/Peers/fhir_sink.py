#!/usr/bin/env python3
"""A FHIR server's Bundle endpoint for the walkthrough: HTTPS with mutual TLS (clients must
chain to --ca), `POST /fhir/Bundle` stores the body under --dir and answers 201 with a
Location, as a GP's record system would. Prints "PORT n" once it listens; runs until its
standard input closes."""
import argparse
import http.server
import os
import ssl
import sys
import threading
import uuid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    os.makedirs(arguments.dir, exist_ok=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/fhir/Bundle" or not self.headers.get("Content-Type", "").startswith("application/fhir+json"):
                self.send_response(404 if self.path != "/fhir/Bundle" else 415)
                self.end_headers()
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            name = str(uuid.uuid4())
            with open(os.path.join(arguments.dir, name + ".json"), "wb") as handle:
                handle.write(body)
            self.send_response(201)
            self.send_header("Location", f"https://{arguments.host}/fhir/Bundle/{name}")
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer((arguments.host, 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(arguments.cert, arguments.key)
    context.load_verify_locations(arguments.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()

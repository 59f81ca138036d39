#!/usr/bin/env python3
"""Loopback HTTP server that serves a directory and injects faults, for download tests.

Usage:
  fault_server.py --root DIR [--port 0] [--mode MODE] [--path-mode /path=MODE ...]
                  [--rate BYTES_PER_S] [--log FILE]

It binds to 127.0.0.1 only. With --port 0 the kernel picks a port. The first line on stdout is
always "PORT <n>" (flushed), so a test can read it and then ignore stdout. Stop it by pid
(SIGTERM or SIGKILL); it keeps no state on disk.

Modes (global with --mode, per path with --path-mode, or at run time with
GET /__fault?mode=MODE[&path=/p][&rate=N]; "path" omitted = global; mode=clear drops all
per-path modes; GET /__log returns the request log):
  normal      serve the file
  hang        accept the request and never answer
  slow        send the body at --rate bytes/s (default 100)
  truncate    send the full Content-Length, then only half the body, then close
  flip        serve the body with its bytes inverted (same length)
  stall       send the full Content-Length, then half the body, then nothing more while the
              connection stays open (a server that stalls in the middle of a body)
  long        a body longer than the object: the file followed by --extra bytes of garbage
              (default 64 MiB; extra=N at run time), with a Content-Length that covers them all;
              sent in 64 KiB pieces, and a line "SENT <path> <n> of <total>" in the log says
              how much went out before the client closed
  overrun     a body longer than promised: Content-Length of the file, then the file and 64 KiB
              more on the wire, then close
  404|500|503|<any 3-digit status>   answer with that status
  squid       answer 503 with an X-Squid-Error header (a proxy-generated error)
  proxystatus answer 502 with "Proxy-Status: test; error=connection_refused"

The server also works as a forward proxy for itself: a request line with an absolute URL
(GET http://127.0.0.1:p/x HTTP/1.1) is served as if it were /x, so tests can point
CURLOPT_PROXY at it.
"""
import argparse
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()
STATE = {"mode": "normal", "paths": {}, "rate": 100, "extra": 64 << 20, "log": []}
GARBAGE = os.urandom(64 * 1024)
LOG_FILE = None


def log(line):
    with STATE_LOCK:
        STATE["log"].append(line)
        if LOG_FILE is not None:
            LOG_FILE.write(line + "\n")
            LOG_FILE.flush()
        else:
            sys.stderr.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."
    # Headers and body go out in two writes; with Nagle on, the body waits for
    # the client's delayed ACK (40 ms per request on loopback).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet default logging; we log ourselves
        pass

    def send_plain(self, status, body=b"", extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        target = self.path
        via_proxy = target.startswith("http://") or target.startswith("https://")
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path or "/"
        headers = "; ".join(f"{k}: {v}" for k, v in self.headers.items())
        log(f"GET {target} proxy={int(via_proxy)} headers=[{headers}]")

        if path == "/__fault":
            q = urllib.parse.parse_qs(parsed.query)
            mode = q.get("mode", ["normal"])[0]
            with STATE_LOCK:
                if "rate" in q:
                    STATE["rate"] = int(q["rate"][0])
                if "extra" in q:
                    STATE["extra"] = int(q["extra"][0])
                if mode == "clear":
                    STATE["paths"].clear()
                    STATE["mode"] = "normal"
                elif "path" in q:
                    STATE["paths"][q["path"][0]] = mode
                else:
                    STATE["mode"] = mode
            return self.send_plain(200, b"ok\n")
        if path == "/__log":
            with STATE_LOCK:
                body = ("\n".join(STATE["log"]) + "\n").encode()
            return self.send_plain(200, body)

        with STATE_LOCK:
            mode = STATE["paths"].get(path, STATE["mode"])
            rate = STATE["rate"]
            extra = STATE["extra"]

        if mode == "hang":
            # Hold the connection open without answering until the client gives up.
            while True:
                time.sleep(3600)
        if mode == "squid":
            return self.send_plain(503, b"squid error page\n",
                                   [("X-Squid-Error", "ERR_CONNECT_FAIL 111")])
        if mode == "proxystatus":
            return self.send_plain(502, b"proxy error page\n",
                                   [("Proxy-Status", "test; error=connection_refused")])
        if mode.isdigit() and len(mode) == 3:
            return self.send_plain(int(mode), f"status {mode}\n".encode())

        local = os.path.normpath(os.path.join(self.root, path.lstrip("/")))
        if not local.startswith(os.path.abspath(self.root)) or not os.path.isfile(local):
            return self.send_plain(404, b"not found\n")
        with open(local, "rb") as f:
            body = f.read()

        if mode == "flip":
            body = bytes(b ^ 0xFF for b in body)
        if mode == "long":
            return self.send_long(path, body, extra)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "stall":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            while True:
                time.sleep(3600)
        if mode == "overrun":
            self.wfile.write(body + GARBAGE)
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "slow":
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(1.0 / max(rate, 1))
            return
        self.wfile.write(body)

    def send_long(self, path, body, extra):
        total = len(body) + extra
        self.send_response(200)
        self.send_header("Content-Length", str(total))
        self.end_headers()
        sent = 0
        try:
            self.wfile.write(body)
            sent = len(body)
            while sent < total:
                piece = GARBAGE[: min(len(GARBAGE), total - sent)]
                self.wfile.write(piece)
                sent += len(piece)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        log(f"SENT {path} {sent} of {total}")


def main():
    global LOG_FILE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=".", help="directory to serve")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 = pick one and print it")
    ap.add_argument("--mode", default="normal", help="global fault mode")
    ap.add_argument("--path-mode", action="append", default=[], help="/path=MODE, repeatable")
    ap.add_argument("--rate", type=int, default=100, help="bytes/s for mode slow")
    ap.add_argument("--extra", type=int, default=64 << 20, help="garbage bytes after the file for mode long")
    ap.add_argument("--log", help="append the request log to this file (default: stderr)")
    args = ap.parse_args()

    Handler.root = os.path.abspath(args.root)
    STATE["mode"] = args.mode
    STATE["rate"] = args.rate
    STATE["extra"] = args.extra
    for spec in args.path_mode:
        p, _, m = spec.partition("=")
        STATE["paths"][p] = m
    if args.log:
        LOG_FILE = open(args.log, "a")

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

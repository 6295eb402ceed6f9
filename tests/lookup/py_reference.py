"""Python's socket module (which calls the C library) as a test reference.

python3 py_reference.py gai NAME SERVICE FAMILY SOCKTYPE PROTO  -> JSON list
python3 py_reference.py ghbn NAME                               -> JSON [name, aliases, addresses]
python3 py_reference.py gni ADDR PORT FLAGS                     -> JSON [host, service]
python3 py_reference.py hostname                                -> JSON name
Errors: {"error": "..."} and exit status 1.
"""
import json
import socket
import sys

FAMILIES = {"0": socket.AF_UNSPEC, "4": socket.AF_INET, "6": socket.AF_INET6}
TYPES = {"0": 0, "stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM, "raw": socket.SOCK_RAW}
TYPE_NAMES = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram", socket.SOCK_RAW: "raw"}


def main(op, args):
    if op == "gai":
        name, service, family, socktype, proto = args
        flags = socket.AI_V4MAPPED | socket.AI_ADDRCONFIG | socket.AI_CANONNAME
        res = socket.getaddrinfo(name, service or None, FAMILIES[family], TYPES[socktype], int(proto), flags)
        return [
            {
                "family": "inet" if f == socket.AF_INET else "inet6",
                "address": a[0],
                "port": a[1],
                "socktype": TYPE_NAMES[t],
                "protocolNumber": p,
                "canonname": c,
            }
            for f, t, p, c, a in res
        ]
    if op == "ghbn":
        return list(socket.gethostbyname_ex(args[0]))
    if op == "gni":
        addr, port, flags = args
        return list(socket.getnameinfo((addr, int(port)), int(flags)))
    if op == "hostname":
        return socket.gethostname()
    raise SystemExit(f"unknown op {op}")


try:
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
except (OSError, UnicodeError) as e:
    print(json.dumps({"error": str(e)}))
    sys.exit(1)

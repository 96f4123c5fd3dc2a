"""Bad input against `sipfleet serve` (started with a token): malformed JSON, wrong types,
unknown fields, a huge body, a wrong or missing token, unknown ids, garbage that is not HTTP,
and 100 concurrent clients. Every answer must be the right 4xx, and the server must go on
serving (a health check after each blow).

    test_api_bad_input.py API_HOST API_PORT TOKEN
"""
import json
import socket
import sys
import threading

from api_client import Api, Checks, EventStream

host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
api = Api(host, port, token)
checks = Checks()
check = checks.check


def still_serving(after):
    st, body, _ = api.get("/v1/health")
    check("still serving after " + after, st == 200 and body == {"status": "ok"}, (st, body))


def error_case(name, method, path, wanted_status, wanted_code=None, body=None, raw=None, names=None, client=api,
               headers=None):
    st, got, _ = client.request(method, path, body=body, raw=raw, headers=headers)
    ok = st == wanted_status and isinstance(got, dict) and "error" in got
    if ok and wanted_code:
        ok = got["error"]["code"] == wanted_code
    if ok and names:
        ok = names in got["error"]["message"]
    check(name, ok, (st, got))


# Token.
error_case("no token: 401", "GET", "/v1/phones", 401, client=Api(host, port, None))
error_case("wrong token: 401", "GET", "/v1/phones", 401, client=Api(host, port, token + "x"))
error_case("a token of another length: 401", "GET", "/v1/stats", 401, client=Api(host, port, "t"))
error_case("Basic instead of Bearer: 401", "GET", "/v1/stats", 401, client=Api(host, port, None),
           headers={"Authorization": "Basic " + token})
try:
    EventStream(host, port, token=None)
    check("the event stream without a token is refused", False)
except ConnectionError as e:
    check("the event stream without a token is refused", "401" in str(e), e)
still_serving("bad tokens")

# Bodies.
error_case("malformed JSON: 400 bad_json", "POST", "/v1/phones", 400, "bad_json", raw=b'{"users": "1000-1001",')
error_case("not an object: 400", "POST", "/v1/phones", 400, raw=b'[1,2,3]')
error_case("wrong type names the field", "POST", "/v1/phones", 400, body={"users": 5}, names="users")
error_case("unknown field names it", "POST", "/v1/phones", 400, "unknown_field",
           body={"users": "2000", "colour": "red"}, names="colour")
error_case("missing users", "POST", "/v1/phones", 400, body={"password": "x"}, names="users")
error_case("a reversed range", "POST", "/v1/phones", 400, body={"users": "2010-2000"}, names="users")
error_case("a range that is not numbers", "POST", "/v1/phones", 400, body={"users": "abc"}, names="users")
error_case("a bad proxy", "POST", "/v1/phones", 400, body={"users": "2000", "proxy": "nowhere:99999"}, names="proxy")
error_case("a bad answer mode", "PATCH", "/v1/phones/2000", 400, body={"answer": "maybe"}, names="answer")
error_case("a bad call target type", "POST", "/v1/phones/2000/calls", 400, body={"to": 1002}, names="to")
error_case("bad DTMF digits", "POST", "/v1/calls/x/dtmf", 400, body={"digits": "12Z"}, names="digits")
error_case("a campaign without a rate", "POST", "/v1/campaigns", 400, body={"callers": "1-2", "callees": "3-4",
                                                                          "total": 1}, names="rate")


def huge_body(send_body):
    """A 2 MiB body: 413 as soon as the headers say so (the server need not read it all)."""
    s = socket.create_connection((host, port), timeout=10)
    body = b'{"users": "' + b"1" * (2 << 20) + b'"}'
    s.sendall(b"POST /v1/phones HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    if send_body:
        try:
            s.sendall(body)
        except OSError:  # the server answered and closed while we were still sending
            pass
    reply = b""
    try:
        while b"\r\n\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    s.close()
    return reply


check("a 2 MiB body announced: 413", huge_body(False).startswith(b"HTTP/1.1 413"), huge_body(False)[:60])
huge_body(True)  # sent whole: whatever the client sees, the server must not suffer
still_serving("bad bodies")

# Unknown things.
error_case("unknown phone: 404", "GET", "/v1/phones/424242", 404, "not_found")
error_case("unknown call: 404", "GET", "/v1/calls/no-such-call@x", 404, "not_found")
error_case("unknown call action target: 404", "POST", "/v1/calls/no-such-call/hold", 404)
error_case("unknown campaign: 404", "GET", "/v1/campaigns/999", 404, "not_found")
error_case("unknown route: 404", "GET", "/v1/nothing", 404, "no_route")
error_case("wrong method: 405", "PUT", "/v1/phones", 405)
error_case("a bad limit", "GET", "/v1/phones?limit=-1", 400, names="limit")
error_case("an unknown filter", "GET", "/v1/phones?colour=red", 400, names="colour")

# A phone that exists already.
st, body, _ = api.post("/v1/phones", {"users": "2000-2001", "register": False})
check("two phones made", st == 201, (st, body))
error_case("making them again: 409", "POST", "/v1/phones", 409, body={"users": "2001-2002", "register": False})
st, body, _ = api.get("/v1/phones/2002")
check("a 409 makes none of them", st == 404, (st, body))
error_case("a call from an unregistered phone's missing call: 409 on answer", "POST", "/v1/calls/none/answer", 404)

# Garbage that is not HTTP.
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n")
reply = s.recv(4096)
s.close()
check("garbage is answered 400", reply.startswith(b"HTTP/1.1 400"), reply[:80])
still_serving("garbage")

# 100 concurrent clients, each with a mix of good and bad requests.
results = []
lock = threading.Lock()


def client(i):
    c = Api(host, port, token)
    got = []
    for path, method, body, wanted in (("/v1/health", "GET", None, 200), ("/v1/phones/2000", "GET", None, 200),
                                       ("/v1/phones/x%d" % i, "GET", None, 404),
                                       ("/v1/phones", "POST", {"users": 7}, 400), ("/v1/stats", "GET", None, 200)):
        try:
            st, _, _ = c.request(method, path, body=body)
        except OSError as e:
            st = str(e)
        got.append(st == wanted)
    with lock:
        results.append(all(got))


threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
check("100 concurrent clients: every answer right", len(results) == 100 and all(results),
      "%d of %d clients got every answer right" % (sum(results), len(results)))
still_serving("100 clients")

# A WebSocket client that does not read while 1,500 phones register: the server goes on
# serving, and when the client reads again it is told how many events it lost.
slow = EventStream(host, port, query="type=phone.", token=token, rcvbuf=4096)
st, body, _ = api.post("/v1/phones", {"users": "3000-4499", "password": "pw{user}"})
check("1,500 phones made while a client does not read", st == 201 and body == {"created": 1500}, (st, body))
try:
    api.wait_until("1,500 phones registered",
                   lambda: api.get("/v1/phones?state=registered&limit=1")[1]["total"] >= 1500, timeout=60)
    check("they all register", True)
except AssertionError as e:
    check("they all register", False, e)
still_serving("a slow WebSocket client")
seen = []
while True:
    e = slow.recv(timeout=2)
    if e is None:
        break
    seen.append(e)
dropped = [e for e in seen if e["type"] == "dropped"]
check("the slow client is told it lost events", len(dropped) >= 1 and all(d["count"] > 0 for d in dropped),
      "%d events read, %s" % (len(seen), dropped[:3]))
check("  ... and lost some, not all", 0 < len(seen) < 1500 + len(dropped), len(seen))
lost = sum(d["count"] for d in dropped)
registered = [e for e in seen if e["type"] == "phone.registered"]
check("  ... every event is either read or counted as dropped", len(registered) + lost >= 1500,
      "%d read + %d dropped" % (len(registered), lost))
slow.close()
checks.finish()

"""A REST-driven scenario, written the way users write them, against `sipfleet serve` and a
real Kamailio: make three phones, register them, 1001 calls 1002, wait for the ringing on the
WebSocket, answer, press 5, hold, resume, transfer to 1003, hang up; then check the events
(in order per call) and the call records.

    test_api_scenario.py API_HOST API_PORT [TOKEN]
Exit status 0 when every check passed; each check prints a line.
"""
import sys
import time

from api_client import Api, Checks, EventStream

host, port = sys.argv[1], int(sys.argv[2])
token = sys.argv[3] if len(sys.argv) > 3 else None
api = Api(host, port, token)
checks = Checks()
check = checks.check


def expect(name, status, wanted, body=None):
    check(name, status == wanted, "status %s, wanted %s: %s" % (status, wanted, body))


events = EventStream(host, port, token=token)

# 1. Three phones, registered through Kamailio.
st, body, _ = api.post("/v1/phones", {"users": "1001-1003", "password": "pw{user}", "register": True})
expect("POST /v1/phones makes 3 phones", st, 201, body)
check("it says how many", body == {"created": 3}, body)
for user in ("1001", "1002", "1003"):
    e = events.wait_for(lambda e, u=user: e["type"] == "phone.registered" and e["user"] == u)
    check("phone.registered event for " + user, e["expires"] > 0, e)
st, body, _ = api.get("/v1/phones?state=registered")
check("GET /v1/phones?state=registered lists the 3", st == 200 and body["total"] == 3 and
      [p["user"] for p in body["phones"]] == ["1001", "1002", "1003"], body)
st, body, _ = api.get("/v1/phones/1001")
check("GET /v1/phones/1001: registered, expiry granted", st == 200 and body["registration"] == "registered"
      and body["expires"] > 0, body)
check("the password is never returned", "pw1001" not in str(body), body)

# 2. 1002 answers by hand.
st, body, _ = api.patch("/v1/phones/1002", {"answer": "manual"})
check("PATCH answer=manual", st == 200 and body["behaviour"]["answer"] == "manual", body)

# 3. 1001 calls 1002; it rings; answer it.
st, body, _ = api.post("/v1/phones/1001/calls", {"to": "1002"})
expect("POST /v1/phones/1001/calls", st, 201, body)
call_id = body["call_id"]
ring = events.wait_for(lambda e: e["type"] == "call.ringing" and e["user"] == "1002" and e["call_id"] == call_id)
check("call.ringing on 1002 (incoming)", ring["direction"] == "incoming", ring)
st, body, _ = api.get("/v1/calls/" + call_id)
check("GET /v1/calls/{id} while ringing", st == 200 and any(l["user"] == "1002" and l["state"] == "ringing"
                                                             for l in body["legs"]), body)
st, body, _ = api.post("/v1/calls/%s/hold" % call_id)
check("hold before the answer is 409, saying why", st == 409 and
      body["error"]["message"] == "the call is not connected", (st, body))
st, body, _ = api.post("/v1/calls/%s/answer" % call_id)
expect("POST /v1/calls/{id}/answer", st, 202, body)
for user in ("1001", "1002"):
    events.wait_for(lambda e, u=user: e["type"] == "call.answered" and e["user"] == u and e["call_id"] == call_id)
check("call.answered on both phones", True)
st, body, _ = api.post("/v1/calls/%s/answer" % call_id)
check("answering again is 409", st == 409, (st, body))

# 4. Press 5 (RFC 4733 on the stream), hold, resume.
time.sleep(0.5)  # let the streams start
st, body, _ = api.post("/v1/calls/%s/dtmf" % call_id, {"digits": "5"})
expect("POST /v1/calls/{id}/dtmf", st, 202, body)
e = events.wait_for(lambda e: e["type"] == "call.dtmf" and e["call_id"] == call_id and e["direction"] == "out")
check("call.dtmf (out) event with the digit", e["digit"] == "5" and e["user"] == "1001", e)
e = events.wait_for(lambda e: e["type"] == "call.dtmf" and e["call_id"] == call_id and e["direction"] == "in")
check("1002 hears the 5 as it comes (call.dtmf in)", e["digit"] == "5" and e["user"] == "1002", e)
st, body, _ = api.post("/v1/calls/%s/hold" % call_id)
expect("POST /v1/calls/{id}/hold", st, 202, body)
events.wait_for(lambda e: e["type"] == "call.held" and e["user"] == "1001" and e["call_id"] == call_id)
check("call.held", True)
st, body, _ = api.get("/v1/calls/" + call_id)
check("the call is held", body["legs"][0]["state"] == "held", body)
st, body, _ = api.post("/v1/calls/%s/resume" % call_id)
expect("POST /v1/calls/{id}/resume", st, 202, body)
events.wait_for(lambda e: e["type"] == "call.resumed" and e["user"] == "1001" and e["call_id"] == call_id)
check("call.resumed", True)

# 5. Blind transfer: 1001 refers 1002 to 1003 (REFER, NOTIFY), and hangs up when it worked.
st, body, _ = api.post("/v1/calls/%s/transfer" % call_id, {"to": "1003"})
expect("POST /v1/calls/{id}/transfer", st, 202, body)
new_call = events.wait_for(lambda e: e["type"] == "call.answered" and e["user"] == "1003", timeout=20)
check("1002 called 1003, which answered", new_call["peer"] == "1002" or "1002" in new_call["peer"], new_call)
e = events.wait_for(lambda e: e["type"] == "call.transferred" and e["user"] == "1001" and e["call_id"] == call_id)
check("call.transferred on 1001", "1003" in e.get("to", ""), e)
ended = events.wait_for(lambda e: e["type"] == "call.ended" and e["user"] == "1002" and e["call_id"] == call_id)
check("the first call ended", ended["code"] in (200,), ended)
check("1002 heard the 5 (RFC 4733)", ended.get("media", {}).get("dtmf_received") == "5", ended)

# 6. Hang up the new call from the API.
new_id = new_call["call_id"]
st, body, _ = api.get("/v1/calls?user=1003&state=connected")
check("GET /v1/calls?user=1003&state=connected finds the new call", st == 200 and
      [c["call_id"] for c in body["calls"]] == [new_id], body)
st, body, _ = api.delete("/v1/calls/" + new_id)
expect("DELETE /v1/calls/{id} hangs up", st, 202, body)
events.wait_for(lambda e: e["type"] == "call.ended" and e["user"] == "1003" and e["call_id"] == new_id)
check("call.ended for the new call", True)

# 7. The events of the first call on 1001, in order.
order = [e["type"] for e in events.events if e.get("call_id") == call_id and e["user"] == "1001"]
wanted = ["call.created", "call.ringing", "call.answered", "call.dtmf", "call.held", "call.resumed",
          "call.transferred", "call.ended"]
check("1001's events for the call, in order", order == wanted, order)

# 8. The call records.
st, body, _ = api.get("/v1/calls/" + call_id)
legs = {l["user"]: l for l in body["legs"]}
check("GET /v1/calls/{id}: both legs ended", st == 200 and all(l["state"] == "ended" for l in body["legs"]), body)
check("the caller's leg first", body["legs"][0]["user"] == "1001" and body["legs"][0]["direction"] == "outgoing", body)
check("setup and duration measured", legs["1001"].get("setup_ms", 0) > 0 and legs["1001"].get("duration_ms", 0) > 0,
      legs["1001"])
check("media figures in the record", legs["1002"]["media"]["packets_received"] > 0 and
      legs["1002"]["media"]["dtmf_received"] == "5", legs["1002"].get("media"))
st, body, _ = api.get("/v1/stats")
check("GET /v1/stats: 2 calls attempted, 2 answered", st == 200 and body["calls"]["attempted"] == 2 and
      body["calls"]["answered"] == 2, body.get("calls"))
st, body, hdrs = api.get("/metrics")
check("GET /metrics in Prometheus text format", st == 200 and
      'sipfleet_calls_total{direction="outgoing",result="answered"} 2' in body and
      hdrs["content-type"].startswith("text/plain"), body)

# 9. Unregister, and delete a phone.
st, body, _ = api.post("/v1/phones/1003/unregister")
expect("POST /v1/phones/1003/unregister", st, 202, body)
events.wait_for(lambda e: e["type"] == "phone.unregistered" and e["user"] == "1003")
check("phone.unregistered", True)
st, body, _ = api.delete("/v1/phones/1003")
expect("DELETE /v1/phones/1003", st, 204, body)
st, body, _ = api.get("/v1/phones/1003")
check("then it is 404", st == 404 and body["error"]["code"] == "not_found", (st, body))
st, body, _ = api.post("/v1/phones", {"users": "1003", "password": "pw{user}"})
check("and the user can be made again", st == 201, (st, body))
events.wait_for(lambda e: e["type"] == "phone.registered" and e["user"] == "1003")
events.close()
checks.finish()

"""A local stand-in for the four HTTP couriers (Shiprocket, Delhivery,
BlueDart, DTDC), for tests/e2e/test_courier_adapters.py: one
ThreadingHTTPServer on a free loopback port that answers each courier's
paths in that courier's shapes, checks the credentials each expects, and
records every request so tests can assert what opsbase sent.

Knobs a test sets: `refuse[path_part] = (status, body)` answers a matching
path with that status and JSON (or text) body; `delay` seconds before every
answer; `scans[awb]` the courier-shaped scan list a tracking call returns."""
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# what each courier's credentials must be, as the tests configure them
SHIPROCKET = {"email": "api@shop.test", "password": "sr-pass-Zq81"}
DELHIVERY = {"token": "dl-token-Yw52"}
BLUEDART = {"client_id": "bd-client", "client_secret": "bd-secret-Kp07", "login_id": "BDLOGIN",
            "license_key": "bd-licence-Xr44"}
DTDC = {"api_key": "dt-key-Vn63", "customer_code": "GL1099", "tracking_user": "GL1099_trk",
        "tracking_password": "dt-trk-Mm29"}
SECRETS = ["sr-pass-Zq81", "dl-token-Yw52", "bd-secret-Kp07", "bd-licence-Xr44", "dt-key-Vn63", "dt-trk-Mm29"]

SR_TOKEN, BD_JWT, DT_TOKEN = "sr-session-1", "bd-jwt-1", "dt-access-1"


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def json(self):
        return json.loads(self.body)

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body).items()}


class FakeCouriers:
    def __init__(self):
        self.requests = []
        self.refuse = {}
        self.delay = 0.0
        self.scans = {}
        self._n = 1000
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _serve(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                u = urllib.parse.urlsplit(self.path)
                q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query).items()}
                req = Request(method, u.path, q, {k.lower(): v for k, v in self.headers.items()}, body)
                with fake._lock:
                    fake.requests.append(req)
                if fake.delay:
                    time.sleep(fake.delay)
                status, out = fake._answer(req)
                data = out if isinstance(out, str) else json.dumps(out)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain" if isinstance(out, str) else "application/json")
                    self.send_header("Content-Length", str(len(data.encode())))
                    self.end_headers()
                    self.wfile.write(data.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self):
        with self._lock:
            self.requests.clear()
        self.refuse.clear()
        self.delay = 0.0

    def seen(self, path_part):
        return [r for r in self.requests if path_part in r.path]

    def _next(self, prefix):
        with self._lock:
            self._n += 1
            return f"{prefix}{self._n}"

    def _answer(self, r):
        for part, answer in self.refuse.items():
            if part in r.path:
                return answer
        p = r.path
        if p.startswith("/v1/external/"):
            return self._shiprocket(r)
        if p.startswith("/api/") and not p.startswith("/api/customer/") or p.startswith("/fm/"):
            return self._delhivery(r)
        if p.startswith("/in/transportation/"):
            return self._bluedart(r)
        if p.startswith("/api/customer/") or p.startswith("/dtdc-api/"):
            return self._dtdc(r)
        return 404, {"message": "no such path"}

    # --- Shiprocket
    def _shiprocket(self, r):
        if r.path == "/v1/external/auth/login":
            b = r.json()
            if (b.get("email"), b.get("password")) != (SHIPROCKET["email"], SHIPROCKET["password"]):
                return 401, {"message": "Invalid email and password combination", "status_code": 401}
            return 200, {"token": SR_TOKEN, "email": b["email"]}
        if r.headers.get("authorization") != f"Bearer {SR_TOKEN}":
            return 401, {"message": "Token not provided or expired", "status_code": 401}
        if r.path == "/v1/external/orders/create/adhoc":
            b = r.json()
            if not b.get("order_items"):
                return 422, {"message": "The order items field is required.", "status_code": 422}
            return 200, {"order_id": 7001, "shipment_id": 8001, "status": "NEW", "status_code": 1}
        if r.path == "/v1/external/courier/assign/awb":
            return 200, {"awb_assign_status": 1, "response": {"data": {
                "awb_code": self._next("SR"), "courier_name": "Xpressbees Surface", "shipment_id": r.json()["shipment_id"],
                "freight_charges": 61.5}}}
        if r.path == "/v1/external/courier/generate/label":
            return 200, {"label_created": 1, "label_url": f"{self.url}/sr-labels/{r.json()['shipment_id'][0]}.pdf"}
        if r.path.startswith("/v1/external/courier/track/awb/"):
            awb = r.path.rsplit("/", 1)[1]
            return 200, {"tracking_data": {"track_status": 1, "shipment_track_activities": self.scans.get(awb, [])}}
        if r.path.startswith("/v1/external/ndr/") and r.path.endswith("/action"):
            return 200, {"message": "Action taken successfully"}
        if r.path == "/v1/external/orders/cancel/shipment/awbs":
            return 200, {"status": 200, "message": "Bulk Shipment cancellation is in progress."}
        if r.path == "/v1/external/courier/generate/pickup":
            return 200, {"pickup_status": 1}
        return 404, {"message": "no such path"}

    # --- Delhivery
    def _delhivery(self, r):
        if r.headers.get("authorization") != f"Token {DELHIVERY['token']}":
            return 401, {"detail": "Authentication credentials were not provided.", "message": "Unauthorized"}
        if r.path == "/api/cmu/create.json":
            data = json.loads(r.form()["data"])
            s = data["shipments"][0]
            if s.get("pin") == "999999":
                return 200, {"success": False, "rmk": "Pincode not serviceable", "packages": [
                    {"status": "Fail", "waybill": "", "remarks": ["Pincode 999999 is not serviceable"]}]}
            return 200, {"success": True, "packages": [{"status": "Success", "waybill": self._next("DL"),
                                                        "refnum": s["order"], "remarks": []}]}
        if r.path == "/api/p/packing_slip":
            return 200, {"packages": [{"wbn": r.query["wbns"],
                                       "pdf_download_link": f"{self.url}/dl-slips/{r.query['wbns']}.pdf"}]}
        if r.path == "/api/kinko/v1/invoice/charges/.json":
            return 200, [{"total_amount": 88.2, "gross_amount": 74.75}]
        if r.path == "/api/v1/packages/json/":
            awb = r.query["waybill"]
            return 200, {"ShipmentData": [{"Shipment": {"AWB": awb, "Scans": self.scans.get(awb, [])}}]}
        if r.path in ("/api/p/update", "/api/p/edit"):
            return 200, {"status": True, "remark": "accepted"}
        if r.path == "/fm/request/new/":
            return 200, {"pickup_id": 1}
        return 404, {"message": "no such path"}

    # --- BlueDart
    def _bluedart(self, r):
        if r.path == "/in/transportation/token/v1/login":
            if (r.headers.get("clientid"), r.headers.get("clientsecret")) != (BLUEDART["client_id"],
                                                                             BLUEDART["client_secret"]):
                return 401, {"message": "Invalid client credentials"}
            return 200, {"JWTToken": BD_JWT}
        if r.headers.get("jwttoken") != BD_JWT:
            return 401, {"message": "JWT missing"}
        if r.path == "/in/transportation/waybill/v1/GenerateWayBill":
            b = r.json()
            if b["Profile"].get("LicenceKey") != BLUEDART["license_key"]:
                return 200, {"GenerateWayBillResult": {"IsError": True, "AWBNo": "", "Status": [
                    {"StatusCode": "InvalidUser", "StatusInformation": "Invalid login or licence key"}]}}
            if b["Request"]["Consignee"].get("ConsigneePincode") == "999999":
                return 200, {"GenerateWayBillResult": {"IsError": True, "AWBNo": "", "Status": [
                    {"StatusCode": "InvalidPincode", "StatusInformation": "Consignee pincode not serviced"}]}}
            return 200, {"GenerateWayBillResult": {"IsError": False, "AWBNo": self._next("BD"), "Status": [
                {"StatusCode": "Valid", "StatusInformation": "Waybill Generation Sucessful"}]}}
        if r.path == "/in/transportation/tracking/v1/shipment":
            awb = r.query.get("numbers")
            return 200, {"ShipmentData": {"Shipment": [{"WaybillNo": awb, "Scans": self.scans.get(awb, [])}]}}
        if r.path == "/in/transportation/waybill/v1/CancelWaybill":
            return 200, {"CancelWaybillResult": {"IsError": False, "AWBNo": r.json()["Request"]["AWBNo"]}}
        return 404, {"message": "no such path"}

    # --- DTDC
    def _dtdc(self, r):
        if r.path == "/dtdc-api/api/dtdc/authenticate":
            if (r.query.get("username"), r.query.get("password")) != (DTDC["tracking_user"],
                                                                     DTDC["tracking_password"]):
                return 401, "Invalid credentials"
            return 200, DT_TOKEN
        if r.path == "/dtdc-api/rest/JSONCnTrk/getTrackDetails":
            if r.headers.get("x-access-token") != DT_TOKEN:
                return 401, {"message": "token invalid"}
            awb = r.json()["strcnno"]
            return 200, {"statusCode": 200, "statusFlag": True, "trackDetails": self.scans.get(awb, [])}
        if r.headers.get("api-key") != DTDC["api_key"]:
            return 401, {"status": "FAIL", "message": "Invalid api key"}
        if r.path == "/api/customer/integration/consignment/softdata":
            c = r.json()["consignments"][0]
            if c["destination_details"].get("pincode") == "999999":
                return 200, {"status": "OK", "data": [{"success": False, "reason": "PINCODE_NOT_SERVICEABLE",
                                                       "message": "Destination pincode is not serviceable"}]}
            return 200, {"status": "OK", "data": [{"success": True, "reference_number": self._next("D"),
                                                   "customer_reference_number": c["customer_reference_number"]}]}
        if r.path == "/api/customer/integration/consignment/cancel":
            return 200, {"status": "OK", "success": True}
        return 404, {"message": "no such path"}

"""A small but real OpenID Connect provider for tests, served over HTTP on 127.0.0.1.

It implements discovery, the authorization endpoint (approving at once), the token endpoint
(which checks the PKCE code_verifier against the S256 challenge), userinfo and JWKS, and signs
RS256 ID tokens carrying the nonce it was given. It stands in for the remote identity providers
(教育雲, 新北市 OpenID) that are outside this machine.
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class LocalIdentityProvider:
    def __init__(self, client_id="portal", client_secret="s3cret", subject="ntpc-0001",
                 email="teacher@xdes.ntpc.edu.tw"):  # fmt: skip
        self.client_id, self.client_secret = client_id, client_secret
        self.subject, self.email = subject, email
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes = {}  # code → authorization request parameters
        self.token_requests = []
        self.nonce_override = None  # set to make the provider return a wrong nonce
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def discovery(self):
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "userinfo_endpoint": f"{self.url}/userinfo",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, params):
        """Approve the request at once, as a person who logs in at the provider would."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = params
        query = urlencode({"code": code, "state": params.get("state", "")})
        return f"{params['redirect_uri']}?{query}"

    def _token(self, form):
        self.token_requests.append(form)
        request = self.codes.pop(form.get("code", ""), None)
        if request is None or form.get("client_secret") != self.client_secret:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if request.get("code_challenge_method") != "S256" or challenge != request.get(
            "code_challenge"
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": self.client_id, "sub": self.subject, "iat": now,
            "exp": now + 300, "email": self.email, "name": "新店國小 王老師",
            "nonce": self.nonce_override or request.get("nonce"),
        }  # fmt: skip
        id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                     "expires_in": 300, "id_token": id_token}  # fmt: skip

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, idp.discovery())
                if url.path == "/authorize":
                    self.send_response(302)
                    self.send_header("Location", idp.authorize(params))
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    return self._json(200, {"sub": idp.subject, "email": idp.email,
                                            "name": "新店國小 王老師"})  # fmt: skip
                if url.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(idp.key.public_key()))
                    return self._json(200, {"keys": [{**jwk, "kid": "k1", "use": "sig"}]})
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path == "/token":
                    return self._json(*idp._token(form))
                return self._json(404, {"error": "not_found"})

        return Handler

import hashlib
import hmac
import time


def verify(secret: str, signature_header: str, raw_body: bytes, tolerance: int = 300) -> bool:
    """True when X-Signature is this body's, signed with the channel's secret, less than 5 minutes ago."""
    try:
        parts = dict(part.split("=", 1) for part in signature_header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False  # too old (or from the future): a replay
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))

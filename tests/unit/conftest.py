"""Fixtures of the unit tests: the key a test user pool signs its tokens with."""

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.local_auth import POOL_KEY


@pytest.fixture(scope="session")
def pool_key() -> rsa.RSAPrivateKey:
    return POOL_KEY

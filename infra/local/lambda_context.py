"""The Lambda context object, as the runtime passes it: the one fake the stack, the tests and the bench use."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

REGION = "eu-west-2"
ACCOUNT_ID = "123456789012"


@dataclass
class LambdaContext:
    """What Powertools and the handlers read from `context`; the time left counts down from creation."""

    function_name: str = "test-function"
    timeout_seconds: float = 10
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))

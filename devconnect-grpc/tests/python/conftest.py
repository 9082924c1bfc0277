"""Fixtures for the Python grpcio client tests of the DevConnect gRPC server.

The server is started by scripts/suite-grpc.sh, which passes its address in
DEVCONNECT_GRPC_TARGET and puts the stubs generated from
devconnect-grpc/proto/devconnect/v1/*.proto on PYTHONPATH. For operators' tokens it
passes the REST server binary in DEVCONNECT_HTTP_BIN and the gRPC server's data
directory in DEVCONNECT_GRPC_DATA_DIR: `devconnect-http --data-dir DIR admin token`
signs with the secret the gRPC server generated there.
"""

import os
import queue
import struct
import subprocess
import threading
import uuid
import zlib

import grpc
import pytest

from devconnect.v1 import devconnect_pb2 as pb
from devconnect.v1 import devconnect_pb2_grpc as pb_grpc
from devconnect.v1 import moderation_pb2_grpc as mod_grpc

WAIT = 10.0
PASSWORD = "Str0ng!pass"


@pytest.fixture(scope="session")
def channel():
    target = os.environ["DEVCONNECT_GRPC_TARGET"]
    with grpc.insecure_channel(target) as ch:
        grpc.channel_ready_future(ch).result(timeout=60)
        yield ch


@pytest.fixture()
def stub(channel):
    return pb_grpc.DevConnectServiceStub(channel)


@pytest.fixture()
def moderation(channel):
    return mod_grpc.ModerationServiceStub(channel)


def operator_token(name):
    """An operator's token, made as an operator makes one: the `admin token` command."""
    # The server's own configuration: the same data directory and no variables that
    # would point elsewhere (as the suite starts the server).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEVCONNECT_DATABASE_URL", "DEVCONNECT_MEDIA_DIR", "DEVCONNECT_JWT_SECRET")
    }
    done = subprocess.run(
        [
            os.environ["DEVCONNECT_HTTP_BIN"],
            "--data-dir",
            os.environ["DEVCONNECT_GRPC_DATA_DIR"],
            "admin",
            "token",
            "--as",
            name,
            "--ttl-minutes",
            "10",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


class User:
    """A signed-up user: id, token, and calls that carry the token."""

    def __init__(self, stub, name):
        self.stub = stub
        self.name = name
        self.email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.com"
        reply = stub.Signup(
            pb.SignupRequest(
                first_name=name,
                last_name="Py",
                email_id=self.email,
                password=PASSWORD,
                age=33,
                gender=pb.GENDER_OTHERS,
                skills=["python", "grpc"],
            ),
            timeout=WAIT,
        )
        self.token = reply.token
        self.id = reply.user.profile.id
        self.me = reply.user

    @property
    def auth(self):
        return [("authorization", f"Bearer {self.token}")]

    def call(self, method, request):
        return getattr(self.stub, method)(request, metadata=self.auth, timeout=WAIT)

    def subscribe(self, last_message_id=None):
        request = pb.SubscribeRequest()
        if last_message_id is not None:
            request.last_message_id = last_message_id
        return Events(self.stub.Subscribe(request, metadata=self.auth))


class Events:
    """Reads a Subscribe stream on a thread so tests can wait for events with a timeout."""

    def __init__(self, call):
        self.call = call
        self.queue = queue.Queue()
        self.error = None
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for event in self.call:
                self.queue.put(event)
        except grpc.RpcError as err:
            self.error = err
        finally:
            self.ended.set()

    def next(self, kind=None, skip=("presence",)):
        """The next event (of `kind`, if given), skipping the kinds in `skip`."""
        while True:
            event = self.queue.get(timeout=WAIT)
            which = event.WhichOneof("kind")
            if kind is None or which == kind:
                return event
            if which not in skip:
                raise AssertionError(f"expected {kind}, got {event}")

    def wait_end(self):
        assert self.ended.wait(WAIT), "the stream did not end"
        return self.error

    def close(self):
        self.call.cancel()
        self.ended.wait(WAIT)


@pytest.fixture()
def new_user(stub):
    def make(name):
        return User(stub, name)

    return make


def connect(a, b):
    """a asks b to connect; b accepts."""
    sent = a.call(
        "SendRequest",
        pb.SendRequestRequest(to_user_id=b.id, status=pb.REQUEST_STATUS_INTERESTED, note="hi from Python"),
    )
    b.call("ReviewRequest", pb.ReviewRequestRequest(request_id=sent.id, status=pb.REQUEST_STATUS_ACCEPTED))
    return sent


def error_code(err):
    """The stable DevConnect code of a failed call."""
    for key, value in err.trailing_metadata() or ():
        if key == "devconnect-error-code":
            return value
    return None


def png(width=4, height=3):
    """A small valid RGB PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

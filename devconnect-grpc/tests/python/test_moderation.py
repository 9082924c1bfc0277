"""The operators' ModerationService from grpcio, with a token made by `admin token`."""

import grpc
import pytest

from conftest import WAIT, error_code, operator_token
from devconnect.v1 import devconnect_pb2 as pb
from devconnect.v1 import moderation_pb2 as mod


def refused(call, request, metadata):
    """The RpcError a call fails with."""
    with pytest.raises(grpc.RpcError) as err:
        call(request, metadata=metadata, timeout=WAIT)
    return err.value


def test_an_operator_suspends_a_reported_user_and_closes_the_report(new_user, moderation):
    ada, bob = new_user("Ada"), new_user("Bob")
    report = ada.call(
        "FileReport",
        pb.FileReportRequest(kind=pb.REPORT_KIND_USER, target_id=bob.id, reason=pb.REPORT_REASON_SPAM, details="ads"),
    )
    events = bob.subscribe()
    events.next("online_users")
    ops = [("authorization", f"Bearer {operator_token('ops-py')}")]

    # A user's token is not an operator's, nor the other way round.
    err = refused(moderation.GetReport, mod.GetReportRequest(id=report.id), ada.auth)
    assert (err.code(), error_code(err)) == (grpc.StatusCode.UNAUTHENTICATED, "unauthorized")
    err = refused(ada.stub.GetMe, pb.GetMeRequest(), ops)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED

    assert moderation.GetReport(mod.GetReportRequest(id=report.id), metadata=ops, timeout=WAIT) == report
    listed = moderation.ListReports(mod.ListReportsRequest(status=pb.REPORT_STATUS_OPEN), metadata=ops, timeout=WAIT)
    assert report.id in [r.id for r in listed.reports]

    moderation.SuspendUser(mod.SuspendUserRequest(user_id=bob.id, note="spam"), metadata=ops, timeout=WAIT)
    err = events.wait_end()
    assert err is not None and err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_code(err) == "suspended" and err.details().startswith("suspended: ")
    err = refused(bob.stub.GetMe, pb.GetMeRequest(), bob.auth)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and "suspended" in err.details()

    close = mod.CloseReportRequest(id=report.id, outcome=pb.REPORT_STATUS_RESOLVED, note="suspended")
    closed = moderation.CloseReport(close, metadata=ops, timeout=WAIT)
    assert closed.status == pb.REPORT_STATUS_RESOLVED and closed.resolution.by == "ops-py"
    err = refused(moderation.CloseReport, close, ops)
    assert (err.code(), error_code(err)) == (grpc.StatusCode.ALREADY_EXISTS, "conflict")

    moderation.UnsuspendUser(mod.UnsuspendUserRequest(user_id=bob.id, note="appealed"), metadata=ops, timeout=WAIT)
    assert bob.call("GetMe", pb.GetMeRequest()).profile.id == bob.id

    entries = moderation.ListAudit(mod.ListAuditRequest(limit=500), metadata=ops, timeout=WAIT).entries
    ours = [(e.actor, e.action, e.target_id, e.note) for e in entries if e.target_id in (bob.id, report.id)]
    assert ours == [
        ("ops-py", mod.AUDIT_ACTION_SUSPEND, bob.id, "spam"),
        ("ops-py", mod.AUDIT_ACTION_RESOLVE_REPORT, report.id, "suspended"),
        ("ops-py", mod.AUDIT_ACTION_UNSUSPEND, bob.id, "appealed"),
    ]


def test_an_operator_deletes_an_account_and_its_stream_ends(new_user, moderation):
    ada, bob = new_user("Ada"), new_user("Bob")
    events = bob.subscribe()
    events.next("online_users")
    ops = [("authorization", f"Bearer {operator_token('ops-py')}")]
    err = refused(moderation.DeleteUser, mod.DeleteUserRequest(user_id=bob.id), ada.auth)
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED, "a user's token is no operator's"

    moderation.DeleteUser(mod.DeleteUserRequest(user_id=bob.id, note="fraud"), metadata=ops, timeout=WAIT)
    err = events.wait_end()
    assert err is not None and err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_code(err) == "account_deleted"
    err = refused(moderation.DeleteUser, mod.DeleteUserRequest(user_id=bob.id), ops)
    assert (err.code(), error_code(err)) == (grpc.StatusCode.ALREADY_EXISTS, "conflict")
    err = refused(moderation.DeleteUser, mod.DeleteUserRequest(user_id="0123456789abcdef01234567"), ops)
    assert err.code() == grpc.StatusCode.NOT_FOUND

    entries = moderation.ListAudit(mod.ListAuditRequest(limit=500), metadata=ops, timeout=WAIT).entries
    ours = [(e.actor, e.action, e.note) for e in entries if e.target_id == bob.id]
    assert ours == [("ops-py", mod.AUDIT_ACTION_DELETE_USER, "fraud")]

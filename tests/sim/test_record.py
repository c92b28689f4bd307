"""client-go's EventCorrelator (sim/record.py; k8s.io/client-go/tools/record/events_cache.go):
identical Events become one Event with a count, Events differing only in their message are
combined past 10 in 10 minutes, and the spam filter bounds what one source writes about one object."""
from sim.record import COMBINED_PREFIX, EventCorrelator


def event(message="Back-off restarting failed container", reason="BackOff", at="2026-01-01T00:00:00Z", name="p"):
    return {"metadata": {"name": f"{name}.{abs(hash((message, at))):x}", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": name, "uid": "u1", "apiVersion": "v1"},
            "reason": reason, "message": message, "type": "Warning", "source": {"component": "kubelet", "host": "w1"},
            "firstTimestamp": at, "lastTimestamp": at, "count": 1}


def test_an_identical_event_is_a_patch_of_the_first_with_its_count_raised():
    c = EventCorrelator()
    first, patch = c.correlate(event(at="t0"), 0.0)
    assert not patch and first["count"] == 1
    second, patch = c.correlate(event(at="t1"), 5.0)
    assert patch and second["count"] == 2
    assert second["metadata"]["name"] == first["metadata"]["name"]
    assert second["firstTimestamp"] == "t0" and second["lastTimestamp"] == "t1"
    third, _ = c.correlate(event(at="t2"), 9.0)
    assert third["count"] == 3


def test_a_different_message_or_object_is_a_new_event():
    c = EventCorrelator()
    c.correlate(event(), 0.0)
    assert c.correlate(event(message="other"), 1.0)[1] is False
    assert c.correlate(event(name="q"), 1.0)[1] is False


def test_the_tenth_similar_event_within_ten_minutes_is_combined():
    c = EventCorrelator()
    for i in range(9):
        ev, patch = c.correlate(event(message=f"m{i}"), float(i))
        assert not patch and not ev["message"].startswith(COMBINED_PREFIX)
    combined, patch = c.correlate(event(message="m9"), 9.0)
    assert not patch and combined["message"] == COMBINED_PREFIX + "m9"
    again, patch = c.correlate(event(message="m10"), 10.0)
    assert patch and again["count"] == 2 and again["message"] == COMBINED_PREFIX + "m10"
    # Ten minutes later the aggregation starts over.
    fresh, patch = c.correlate(event(message="m11"), 700.0)
    assert not patch and fresh["message"] == "m11"


def test_a_forgotten_event_is_created_again():
    c = EventCorrelator()
    first, _ = c.correlate(event(at="t0"), 0.0)
    c.forget(first)
    ev, patch = c.correlate(event(at="t1"), 1.0)
    assert not patch and ev["count"] == 1


def test_the_spam_filter_still_bounds_a_source_per_object():
    c = EventCorrelator()
    written = [c.correlate(event(message=f"m{i % 5}", reason=f"R{i}"), 0.0) for i in range(40)]
    assert sum(1 for w in written if w is not None) == 25

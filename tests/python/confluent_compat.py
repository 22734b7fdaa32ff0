"""confluent-kafka (librdkafka) scenarios against the broker, driven by tests/tests/wire_confluent.rs.

Each scenario prints one JSON object on its last stdout line. A scenario that cannot finish (a phase
that times out, a client error) prints {"error": ..., ...state so far} and exits 0, so the Rust test
shows what happened; the Rust side bounds the whole process in time as well.
"""

import argparse
import json
import sys
import threading
import time

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

try:
    from confluent_kafka import TopicCollection
except ImportError:  # older confluent-kafka
    TopicCollection = None

COMMON = {
    "broker.address.family": "v4",
    "socket.timeout.ms": 10000,
    "topic.metadata.refresh.interval.ms": 5000,
}


def emit(result):
    print(json.dumps(result, default=str), flush=True)


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def note(errors, message):
    """Records an error once (a failing call is retried every poll)."""
    if message not in errors:
        errors.append(message)


def text(b):
    return None if b is None else b.decode("utf-8")


def produce_idempotent(args):
    """N keyed records through an idempotent producer; every delivery report."""
    producer = Producer(dict(COMMON, **{
        "bootstrap.servers": args.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 30000,
    }))
    delivered, errors = [], []

    def on_delivery(err, msg):
        if err is not None:
            note(errors, str(err))
        else:
            delivered.append([text(msg.key()), text(msg.value()), msg.partition(), msg.offset()])

    deadline = time.monotonic() + 60
    for i in range(args.count):
        while True:
            try:
                producer.produce(args.topic, key="key-%d" % (i % 97), value="value-%d" % i,
                                 on_delivery=on_delivery)
                break
            except BufferError:
                if time.monotonic() > deadline:
                    emit({"error": "local queue stayed full", "delivered": len(delivered)})
                    return
                producer.poll(0.05)
        producer.poll(0)
    undelivered = producer.flush(30)
    emit({"delivered": delivered, "errors": errors, "undelivered": undelivered})


class Member(threading.Thread):
    """One consumer of a group, polling in its own thread and committing after each batch."""

    def __init__(self, name, args):
        super().__init__(daemon=True)
        self.name_ = name
        self.consumer = Consumer(dict(COMMON, **{
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "client.id": name,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
        }))
        self.topic = args.topic
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.assignment = []
        self.records = []
        self.events = []
        self.errors = []

    def on_assign(self, consumer, partitions):
        with self.lock:
            self.events.append(["assign", sorted(p.partition for p in partitions)])

    def on_revoke(self, consumer, partitions):
        with self.lock:
            self.events.append(["revoke", sorted(p.partition for p in partitions)])

    def run(self):
        try:
            self.consumer.subscribe([self.topic], on_assign=self.on_assign, on_revoke=self.on_revoke)
            while not self.stop.is_set():
                msgs = self.consumer.consume(num_messages=100, timeout=0.2)
                got = []
                for m in msgs:
                    if m.error() is not None:
                        if m.error().code() != KafkaError._PARTITION_EOF:
                            note(self.errors, str(m.error()))
                        continue
                    got.append([m.partition(), m.offset(), text(m.value())])
                if got:
                    try:
                        self.consumer.commit(asynchronous=False)
                    except KafkaException as e:
                        # A rebalance may move a partition between poll and commit.
                        note(self.errors, "commit: %s" % e)
                assignment = sorted(p.partition for p in self.consumer.assignment())
                with self.lock:
                    self.records.extend(got)
                    self.assignment = assignment
        except Exception as e:  # reported, not raised: the main thread prints the state
            self.errors.append("%s: %r" % (type(e).__name__, e))
        finally:
            try:
                self.consumer.close()
            except Exception as e:
                self.errors.append("close: %r" % e)
            with self.lock:
                self.assignment = []

    def snapshot(self):
        with self.lock:
            return {"assignment": list(self.assignment), "records": len(self.records)}


def unsupported(errors):
    """Whether the broker lacks an API the client needs: retrying cannot help."""
    return any("_UNSUPPORTED_FEATURE" in e for e in errors)


def wait_for(what, cond, timeout, members=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            log("reached:", what)
            return True
        if any(unsupported(m.errors) for m in members):
            log("the broker lacks an API:", what)
            return False
        time.sleep(0.1)
    log("timed out:", what)
    return False


def group(args):
    """Three members share the topic; the third leaves; the other two take over its partitions."""
    members = [Member("member-%d" % i, args) for i in range(3)]
    all_partitions = list(range(args.partitions))
    values = lambda ms: {r[2] for m in ms for r in m.records}  # noqa: E731

    def covered(ms):
        snaps = [m.snapshot()["assignment"] for m in ms]
        flat = sorted(p for s in snaps for p in s)
        return all(snaps) and flat == all_partitions

    def state(error=None):
        out = {
            "members": [{"name": m.name_, "records": m.records, "events": m.events,
                         "errors": m.errors} for m in members],
            "phase1": phase1, "phase2": phase2,
        }
        if error:
            out["error"] = error
        return out

    phase1, phase2 = None, None
    for m in members:
        m.start()
    if not wait_for("three members share every partition and read the first records",
                    lambda: covered(members) and len(values(members)) >= args.initial, 60,
                    members):
        emit(state("three members never shared the partitions: %s"
                   % [m.snapshot() for m in members]))
        return
    phase1 = {m.name_: m.snapshot()["assignment"] for m in members}

    leaver = members[2]
    leaver.stop.set()
    leaver.join(30)
    if leaver.is_alive():
        emit(state("the leaving member did not close within 30 s"))
        return
    stayers = members[:2]
    if not wait_for("two members share every partition", lambda: covered(stayers), 60, stayers):
        emit(state("after one left, the other two never shared the partitions: %s"
                   % [m.snapshot() for m in stayers]))
        return
    phase2 = {m.name_: m.snapshot()["assignment"] for m in stayers}

    producer = Producer(dict(COMMON, **{"bootstrap.servers": args.bootstrap, "acks": "all"}))
    for i in range(args.extra):
        producer.produce(args.topic, key="extra-key-%d" % i, value="extra-%d" % i)
    if producer.flush(30) != 0:
        emit(state("the extra records were not all delivered"))
        return
    extra = {"extra-%d" % i for i in range(args.extra)}
    ok = wait_for("the two members read the extra records",
                  lambda: extra <= values(stayers), 60, stayers)
    for m in stayers:
        m.stop.set()
    for m in stayers:
        m.join(30)
    emit(state(None if ok else "the extra records were not all read"))


def commit_resume(args):
    """Reads exactly --max records, commits what it read, closes; then lingers --linger s more to
    report any record beyond them (when --max is what remains, any such record is a duplicate)."""
    consumer = Consumer(dict(COMMON, **{
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
    }))
    consumer.subscribe([args.topic])
    records, errors, last = [], [], {}
    deadline = time.monotonic() + 60
    while len(records) < args.max and time.monotonic() < deadline and not unsupported(errors):
        for m in consumer.consume(num_messages=min(100, args.max - len(records)), timeout=0.2):
            if m.error() is not None:
                note(errors, str(m.error()))
                continue
            records.append([m.partition(), m.offset(), text(m.value())])
            last[m.partition()] = m.offset()
    offsets = [TopicPartition(args.topic, p, o + 1) for p, o in sorted(last.items())]
    committed = {}
    try:
        if offsets:
            consumer.commit(offsets=offsets, asynchronous=False)
        parts = [TopicPartition(args.topic, p) for p in range(args.partitions)]
        for tp in consumer.committed(parts, timeout=10):
            committed[tp.partition] = tp.offset
    except KafkaException as e:
        errors.append("commit: %s" % e)
    extra = []
    linger_end = time.monotonic() + args.linger
    while time.monotonic() < linger_end:
        for m in consumer.consume(num_messages=100, timeout=0.2):
            if m.error() is None:
                extra.append([m.partition(), m.offset(), text(m.value())])
    consumer.close()
    out = {"records": records, "committed": committed, "extra": extra, "errors": errors}
    if len(records) < args.max:
        out["error"] = "read %d of %d records" % (len(records), args.max)
    emit(out)


def compressed(args):
    """For each codec: --count compressible records produced with it to {--topic}-{codec}, then read
    back by an assigned consumer (no group membership) from the beginning of every partition."""
    out = {}
    for codec in ["gzip", "snappy", "lz4", "zstd"]:
        topic = "%s-%s" % (args.topic, codec)
        producer = Producer(dict(COMMON, **{
            "bootstrap.servers": args.bootstrap,
            "compression.type": codec,
            "linger.ms": 50,
            "message.timeout.ms": 30000,
        }))
        errors = []
        for i in range(args.count):
            producer.produce(topic, key="k%d" % (i % 7), value="%s-%s-%d" % (codec, "x" * 100, i),
                             on_delivery=lambda err, msg: err and note(errors, str(err)))
            producer.poll(0)
        undelivered = producer.flush(30)
        consumer = Consumer(dict(COMMON, **{
            "bootstrap.servers": args.bootstrap,
            "group.id": "compressed-reader",
            "enable.auto.commit": False,
        }))
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                         for p in range(args.partitions)])
        records = []
        deadline = time.monotonic() + 30
        while len(records) < args.count and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=100, timeout=0.2):
                if m.error() is not None:
                    note(errors, str(m.error()))
                    continue
                records.append([m.partition(), m.offset(), text(m.key()), text(m.value())])
        consumer.close()
        out[codec] = {"records": records, "errors": errors, "undelivered": undelivered}
    emit(out)


def future_result(future, timeout):
    try:
        future.result(timeout=timeout)
        return None
    except KafkaException as e:
        return e.args[0].name() if e.args and hasattr(e.args[0], "name") else str(e)
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)


def admin(args):
    """create_topics (new, then already existing), list_topics and describe_topics."""
    client = AdminClient(dict(COMMON, **{"bootstrap.servers": args.bootstrap}))
    created = {}
    fs = client.create_topics([
        NewTopic("admin-created", num_partitions=5, replication_factor=1,
                 config={"cleanup.policy": "compact", "retention.ms": "3600000"}),
        NewTopic("admin-other", num_partitions=3, replication_factor=1),
    ], operation_timeout=10, request_timeout=15)
    for name, f in fs.items():
        created[name] = future_result(f, 20)
    again = {}
    for name, f in client.create_topics([NewTopic("admin-created", 5, 1)],
                                        request_timeout=15).items():
        again[name] = future_result(f, 20)

    listed = {}
    try:
        meta = client.list_topics(timeout=10)
        for name, t in meta.topics.items():
            listed[name] = {"partitions": len(t.partitions),
                            "error": None if t.error is None else t.error.name()}
        brokers = {b.id: "%s:%d" % (b.host, b.port) for b in meta.brokers.values()}
    except KafkaException as e:
        brokers = {"error": str(e)}

    described = {}
    if TopicCollection is not None:
        fs = client.describe_topics(TopicCollection(["admin-created", "admin-other", "absent"]),
                                    request_timeout=15)
        for name, f in fs.items():
            try:
                d = f.result(timeout=20)
                described[name] = {
                    "name": d.name,
                    "internal": d.is_internal,
                    "partitions": [{"id": p.id, "leader": p.leader.id,
                                    "replicas": [r.id for r in p.replicas],
                                    "isr": [r.id for r in p.isr]} for p in d.partitions],
                }
            except KafkaException as e:
                described[name] = {"error": e.args[0].name() if e.args else str(e)}
            except Exception as e:
                described[name] = {"error": "%s: %s" % (type(e).__name__, e)}
    emit({"created": created, "again": again, "listed": listed, "brokers": brokers,
          "described": described})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario",
                        choices=["produce-idempotent", "group", "commit-resume", "admin",
                                 "compressed"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic")
    parser.add_argument("--group")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--initial", type=int, default=0)
    parser.add_argument("--extra", type=int, default=0)
    parser.add_argument("--max", type=int, default=0)
    parser.add_argument("--linger", type=float, default=0)
    args = parser.parse_args()
    {
        "produce-idempotent": produce_idempotent,
        "group": group,
        "commit-resume": commit_resume,
        "admin": admin,
        "compressed": compressed,
    }[args.scenario](args)


if __name__ == "__main__":
    main()

"""kafka-python scenarios against the broker, driven by tests/tests/wire_kafka_python.rs.

Each scenario prints one JSON object on its last stdout line. A scenario that cannot finish prints
{"error": ..., ...state so far} and exits 0, so the Rust test shows what happened; the Rust side
bounds the whole process in time as well.
"""

import argparse
import json
import sys
import time
import traceback

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

COMMON = {
    "request_timeout_ms": 15000,
}


def emit(result):
    print(json.dumps(result, default=str), flush=True)


def text(b):
    return None if b is None else b.decode("utf-8")


def produce(args):
    """--count records with keys and a header, acks=all; the metadata of each."""
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=5,
                             max_block_ms=15000, **COMMON)
    futures = []
    for i in range(args.count):
        futures.append(producer.send(args.topic, key=b"key-%d" % (i % 53), value=b"value-%d" % i,
                                     headers=[("index", str(i).encode())]))
    producer.flush(timeout=30)
    delivered = []
    for i, f in enumerate(futures):
        m = f.get(timeout=30)
        delivered.append(["key-%d" % (i % 53), "value-%d" % i, m.partition, m.offset])
    producer.close(timeout=10)
    emit({"delivered": delivered})


def group(args):
    """Reads exactly --max records in group --group, commits, closes; then a second consumer of the
    same group reads the rest (--total - --max) and lingers to catch any record read again."""
    runs = []
    for want, linger in [(args.max, 0), (args.total - args.max, 3)]:
        consumer = KafkaConsumer(args.topic, bootstrap_servers=args.bootstrap,
                                 group_id=args.group, enable_auto_commit=False,
                                 auto_offset_reset="earliest", session_timeout_ms=10000,
                                 heartbeat_interval_ms=1000, **COMMON)
        records = []
        deadline = time.monotonic() + 60
        while len(records) < want and time.monotonic() < deadline:
            polled = consumer.poll(timeout_ms=200, max_records=want - len(records))
            for tp, msgs in sorted(polled.items()):
                for m in msgs:
                    records.append([m.partition, m.offset, text(m.value)])
        if len(records) < want:
            consumer.close(autocommit=False)
            emit({"error": "read %d of %d records within 60 s" % (len(records), want),
                  "runs": runs})
            return
        consumer.commit()
        committed = {}
        for p in range(args.partitions):
            committed[p] = consumer.committed(TopicPartition(args.topic, p))
        extra = []
        linger_end = time.monotonic() + linger
        while time.monotonic() < linger_end:
            for tp, msgs in consumer.poll(timeout_ms=200).items():
                extra.extend([m.partition, m.offset, text(m.value)] for m in msgs)
        consumer.close(autocommit=False)
        runs.append({"records": records, "committed": committed, "extra": extra})
    emit({"runs": runs})


def describe_configs(args):
    """Every config of a topic, defaults included."""
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap, **COMMON)
    result = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, args.topic)],
                                    config_filter="all")
    admin.close()
    emit({"configs": result})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["produce", "group", "describe-configs"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--max", type=int, default=0)
    parser.add_argument("--total", type=int, default=0)
    args = parser.parse_args()
    try:
        {"produce": produce, "group": group, "describe-configs": describe_configs}[args.scenario](args)
    except Exception as e:
        traceback.print_exc()
        emit({"error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    main()

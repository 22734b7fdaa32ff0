//! Global tables through the test driver: the describe() text Kafka prints for them, lookups from
//! a stream's processor, tombstones, and the store a test reads.

#![allow(clippy::unwrap_used)]

use streams_dsl::prelude::*;

#[test]
fn describe_prints_a_global_store_as_kafka_does() {
    let builder = StreamsBuilder::new();
    builder.global_table::<String, String>(
        "demo-global-table",
        Consumed::default(),
        Materialized::default(),
    );
    assert_eq!(
        builder.build().unwrap().describe().to_string(),
        "Topologies:\n   \
         Sub-topology: 0 for global store (will not generate tasks)\n    \
         Source: KSTREAM-SOURCE-0000000001 (topics: [demo-global-table])\n      \
         --> KTABLE-SOURCE-0000000002\n    \
         Processor: KTABLE-SOURCE-0000000002 (stores: [demo-global-table-STATE-STORE-0000000000])\n      \
         --> none\n      \
         <-- KSTREAM-SOURCE-0000000001\n"
    );

    // A named store burns no name; a stream after the global table is the next sub-topology.
    let builder = StreamsBuilder::new();
    builder.global_table::<String, String>(
        "INPUT_TOPIC",
        Consumed::default(),
        Materialized::as_("myStore"),
    );
    builder.stream::<String, String>("in").to("out");
    assert_eq!(
        builder.build().unwrap().describe().to_string(),
        "Topologies:\n   \
         Sub-topology: 0 for global store (will not generate tasks)\n    \
         Source: KSTREAM-SOURCE-0000000000 (topics: [INPUT_TOPIC])\n      \
         --> KTABLE-SOURCE-0000000001\n    \
         Processor: KTABLE-SOURCE-0000000001 (stores: [myStore])\n      \
         --> none\n      \
         <-- KSTREAM-SOURCE-0000000000\n  \
         Sub-topology: 1\n    \
         Source: KSTREAM-SOURCE-0000000002 (topics: [in])\n      \
         --> KSTREAM-SINK-0000000003\n    \
         Sink: KSTREAM-SINK-0000000003 (topic: out)\n      \
         <-- KSTREAM-SOURCE-0000000002\n\n"
    );
}

/// Looks each order's country up in the global table.
struct Enrich;

impl Processor<String, String, String, String> for Enrich {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        let countries = ctx.key_value_store::<String, String>("countries")?;
        let name = countries.get(&r.value)?.unwrap_or_else(|| "?".into());
        let v = format!("{} from {name}", r.key);
        ctx.forward(r.with_value(v));
        Ok(())
    }
}

#[test]
fn processors_read_the_global_table_and_see_its_updates_and_deletes() {
    let builder = StreamsBuilder::new();
    let table = builder.global_table::<String, String>(
        "country-codes",
        Consumed::default(),
        Materialized::as_("countries"),
    );
    assert_eq!(table.queryable_store_name(), "countries");
    builder.stream::<String, String>("orders").process(|| Enrich).to("enriched");
    let d =
        TopologyTestDriver::new(builder.build().unwrap(), StreamsConfig::new("global")).unwrap();
    let mut codes = d.input_topic::<String, Option<String>>("country-codes");
    let mut orders = d.input_topic::<String, String>("orders");
    let out = d.output_topic::<String, String>("enriched");

    codes.pipe_input("fr".into(), Some("France".into())).unwrap();
    codes.pipe_input("jp".into(), Some("Japan".into())).unwrap();
    orders.pipe_input("order-1".into(), "fr".into()).unwrap();
    codes.pipe_input("fr".into(), Some("République française".into())).unwrap();
    orders.pipe_input("order-2".into(), "fr".into()).unwrap();
    codes.pipe_input("jp".into(), None).unwrap();
    orders.pipe_input("order-3".into(), "jp".into()).unwrap();

    let got: Vec<String> = out.read_values_to_list();
    assert_eq!(got, ["order-1 from France", "order-2 from République française", "order-3 from ?"]);
    let store = d.key_value_store::<String, String>("countries").unwrap().unwrap();
    assert_eq!(store.all().unwrap(), vec![("fr".into(), "République française".into())]);
}

#[test]
fn a_global_store_must_not_have_a_changelog() {
    let mut topology = Topology::new();
    let err = topology
        .add_global_store(
            StoreBuilder::<String, String>::persistent_key_value("g"),
            "source",
            streams_core::Source::<String, String>::topics(&["t"]),
            "writer",
        )
        .unwrap_err();
    assert!(err.to_string().contains("logging disabled"), "{err}");
}

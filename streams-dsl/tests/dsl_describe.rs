//! `describe()` of DSL topologies, character for character as Kafka Streams prints them (generated
//! names, burned indexes, node order, trailing blank line), and the Mermaid and DOT drawings.

#![allow(clippy::unwrap_used)] // Test helpers unwrap too, as tests may.

use streams_dsl::prelude::*;

fn describe(builder: StreamsBuilder) -> String {
    builder.build().unwrap().describe().to_string()
}

#[test]
fn d1_map_values_filter_to() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map_values(|v| v.len() as i64)
        .filter(|_, n| *n > 0)
        .to("output");
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAPVALUES-0000000001
    Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000002 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-MAPVALUES-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: output)
      <-- KSTREAM-FILTER-0000000002

"
    );
}

#[test]
fn d2_split_with_three_consumer_branches() {
    let builder = StreamsBuilder::new();
    let rest = builder
        .stream::<String, i64>("input")
        .split()
        .branch(|_, v| *v > 100, Branched::with_consumer(|s| s.to("a")))
        .branch(|_, v| *v > 10, Branched::with_consumer(|s| s.to("b")))
        .default_branch(Branched::with_consumer(|s| s.to("c")));
    assert!(rest.is_empty());
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-0000000001 (stores: [])
      --> KSTREAM-BRANCH-00000000010, KSTREAM-BRANCH-00000000011, KSTREAM-BRANCH-00000000012
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-BRANCH-00000000010 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-00000000011 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-00000000012 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-BRANCH-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: a)
      <-- KSTREAM-BRANCH-00000000011
    Sink: KSTREAM-SINK-0000000005 (topic: b)
      <-- KSTREAM-BRANCH-00000000012
    Sink: KSTREAM-SINK-0000000007 (topic: c)
      <-- KSTREAM-BRANCH-00000000010

"
    );
}

#[test]
fn d3_merge_of_two_sources() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("a").merge(&builder.stream::<String, String>("b")).to("c");
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [a])
      --> KSTREAM-MERGE-0000000002
    Source: KSTREAM-SOURCE-0000000001 (topics: [b])
      --> KSTREAM-MERGE-0000000002
    Processor: KSTREAM-MERGE-0000000002 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-SOURCE-0000000000, KSTREAM-SOURCE-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: c)
      <-- KSTREAM-MERGE-0000000002

"
    );
}

#[test]
fn d3b_pattern_source() {
    let builder = StreamsBuilder::new();
    builder.stream_pattern::<String, String>("topic-\\d+", Consumed::default()).to("output");
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: topic-\\d+)
      --> KSTREAM-SINK-0000000001
    Sink: KSTREAM-SINK-0000000001 (topic: output)
      <-- KSTREAM-SOURCE-0000000000

"
    );
}

const D4: &str = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-FILTER-0000000003
    Processor: KSTREAM-FILTER-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000002 (topic: KSTREAM-REPARTITION-0000000001-repartition)
      <-- KSTREAM-FILTER-0000000003

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000004 (topics: [KSTREAM-REPARTITION-0000000001-repartition])
      --> KSTREAM-SINK-0000000005
    Sink: KSTREAM-SINK-0000000005 (topic: output)
      <-- KSTREAM-SOURCE-0000000004

";

fn d4() -> Topology {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").repartition().to("output");
    builder.build().unwrap()
}

#[test]
fn d4_repartition_then_to() {
    assert_eq!(d4().describe().to_string(), D4);
}

#[test]
fn e1_dynamic_to_prints_the_extractor() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input-topic")
        .to_dynamic(|k, _, meta| format!("{}-{k}", meta.map_or("", |m| &m.topic)));
    let text = describe(builder);
    let head = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input-topic])
      --> KSTREAM-SINK-0000000001
    Sink: KSTREAM-SINK-0000000001 (extractor class: ";
    let tail = ")
      <-- KSTREAM-SOURCE-0000000000

";
    assert!(text.starts_with(head), "{text}");
    assert!(text.ends_with(tail), "{text}");
    let extractor = &text[head.len()..text.len() - tail.len()];
    // Our extractors are closures: their type name stands for Java's `toString()`.
    assert!(extractor.contains("e1_dynamic_to_prints_the_extractor"), "{extractor}");
    assert!(extractor.contains("{{closure}}"), "{extractor}");
    assert!(!extractor.contains('\n'), "{extractor}");
}

#[test]
fn a_user_named_repartition_names_its_topic_and_nodes_after_the_name() {
    // Repartitioned::as_ burns no KSTREAM-REPARTITION- index, but the sink, filter and source
    // names are still drawn (1, 2, 3), so the final sink is 4.
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .repartition_with(Repartitioned::as_("x"))
        .to("output");
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> x-repartition-filter
    Processor: x-repartition-filter (stores: [])
      --> x-repartition-sink
      <-- KSTREAM-SOURCE-0000000000
    Sink: x-repartition-sink (topic: x-repartition)
      <-- x-repartition-filter

  Sub-topology: 1
    Source: x-repartition-source (topics: [x-repartition])
      --> KSTREAM-SINK-0000000004
    Sink: KSTREAM-SINK-0000000004 (topic: output)
      <-- x-repartition-source

"
    );
}

#[test]
fn named_processors_still_consume_an_index() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, i64>("input") // 0
        .filter_named(Named::as_("big"), |_, v| *v > 10) // 1, burned
        .map_values(|v| v * 2) // 2
        .to("output"); // 3
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> big
    Processor: big (stores: [])
      --> KSTREAM-MAPVALUES-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- big
    Sink: KSTREAM-SINK-0000000003 (topic: output)
      <-- KSTREAM-MAPVALUES-0000000002

"
    );
}

#[test]
fn consumed_produced_and_printed_names_burn_an_index_but_process_named_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let builder = StreamsBuilder::new();
    let s = builder.stream_with::<String, String>(&["input"], Consumed::as_("in")); // 0, burned
    s.print(Printed::to_file(dir.path().join("p.txt")).with_name("printer")); // 1, burned
    s.process_named(Named::as_("p"), || Pass) // no index
        .peek(|_, _| {}) // 2
        .to_with("output", Produced::as_("out")); // 3, burned
    s.to("other"); // 4
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: in (topics: [input])
      --> p, KSTREAM-SINK-0000000004, printer
    Processor: p (stores: [])
      --> KSTREAM-PEEK-0000000002
      <-- in
    Processor: KSTREAM-PEEK-0000000002 (stores: [])
      --> out
      <-- p
    Sink: KSTREAM-SINK-0000000004 (topic: other)
      <-- in
    Sink: out (topic: output)
      <-- KSTREAM-PEEK-0000000002
    Processor: printer (stores: [])
      --> none
      <-- in

"
    );
}

struct Pass;

impl Processor<String, String> for Pass {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<String, String>,
        r: Record<String, String>,
    ) -> Result<(), ProcessError> {
        ctx.forward(r);
        Ok(())
    }
}

#[test]
fn a_named_split_names_its_branches_after_the_split() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, String>("input") // 0
        .split_named(Named::as_("branch-processor")) // 1, burned
        .branch(|_, v| v.is_empty(), Branched::as_("-1")) // 2, burned
        .no_default_branch();
    branches["branch-processor-1"].to("output"); // 3
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> branch-processor
    Processor: branch-processor (stores: [])
      --> branch-processor-1
      <-- KSTREAM-SOURCE-0000000000
    Processor: branch-processor-1 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- branch-processor
    Sink: KSTREAM-SINK-0000000003 (topic: output)
      <-- branch-processor-1

"
    );
}

/// A source's topics print as Java's `new HashSet<>(topics).toString()` (`SourceNodeFactory
/// .describe()`), so in hash order, not declaration order (notes §1 and §2.4; the order below is
/// what `jshell` prints for `new HashSet<>(List.of("orders", "clicks", "payments"))`).
#[test]
fn a_multi_topic_source_lists_its_topics_in_java_hash_set_order() {
    let builder = StreamsBuilder::new();
    builder.stream_from::<String, String>(&["orders", "clicks", "payments"]).to("all");
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [payments, clicks, orders])
      --> KSTREAM-SINK-0000000001
    Sink: KSTREAM-SINK-0000000001 (topic: all)
      <-- KSTREAM-SOURCE-0000000000

"
    );
}

/// In a fan-out whose branches have sub-trees of different sizes, Kafka's `-->` list is not a
/// plain sort: `describeSubtopology` inserts successors into a size-ordered `TreeSet` while sizes
/// are still growing, in Java `HashMap` order (notes §2.3). The expected text was computed by
/// replaying that loop with the real `java.util` collections
/// (`/work/scratch/java-order/Check.java`); the node list itself is a clean sort.
#[test]
fn a_fan_out_lists_successors_in_kafkas_insertion_order() {
    let builder = StreamsBuilder::new();
    let s = builder.stream::<String, String>("input"); // 0
    s.map_values(|v| v.len() as i64) // 1
        .filter(|_, n| *n > 1) // 2
        .peek(|_, _| {}) // 3
        .to("a"); // 4
    s.filter(|_, v| !v.is_empty()) // 5
        .to("b"); // 6
    s.to("c"); // 7
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-FILTER-0000000005, KSTREAM-MAPVALUES-0000000001, KSTREAM-SINK-0000000007
    Processor: KSTREAM-MAPVALUES-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000002 (stores: [])
      --> KSTREAM-PEEK-0000000003
      <-- KSTREAM-MAPVALUES-0000000001
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-PEEK-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-FILTER-0000000002
    Sink: KSTREAM-SINK-0000000004 (topic: a)
      <-- KSTREAM-PEEK-0000000003
    Sink: KSTREAM-SINK-0000000006 (topic: b)
      <-- KSTREAM-FILTER-0000000005
    Sink: KSTREAM-SINK-0000000007 (topic: c)
      <-- KSTREAM-SOURCE-0000000000

"
    );
}

#[test]
fn an_empty_builder_describes_as_kafka_prints_an_empty_topology() {
    // Kafka prints "Topologies:\n " for a topology with no node.
    let topology = Topology::new();
    assert_eq!(topology.describe().to_string(), "Topologies:\n ");
}

#[test]
fn d4_mermaid_has_every_node_topic_and_edge() {
    let mermaid = d4().describe().to_mermaid();
    assert!(mermaid.starts_with("flowchart TD\n"), "{mermaid}");
    for line in [
        "subgraph sub0[\"Sub-topology: 0\"]",
        "subgraph sub1[\"Sub-topology: 1\"]",
        "KSTREAM_SOURCE_0000000000[\"KSTREAM-SOURCE-0000000000\"]",
        "KSTREAM_FILTER_0000000003[\"KSTREAM-FILTER-0000000003\"]",
        "KSTREAM_SINK_0000000002[\"KSTREAM-SINK-0000000002\"]",
        "KSTREAM_SOURCE_0000000004[\"KSTREAM-SOURCE-0000000004\"]",
        "KSTREAM_SINK_0000000005[\"KSTREAM-SINK-0000000005\"]",
        "topic_input[(\"input\")]",
        "topic_KSTREAM_REPARTITION_0000000001_repartition[(\"KSTREAM-REPARTITION-0000000001-repartition\")]",
        "topic_output[(\"output\")]",
        "topic_input --> KSTREAM_SOURCE_0000000000",
        "KSTREAM_SOURCE_0000000000 --> KSTREAM_FILTER_0000000003",
        "KSTREAM_FILTER_0000000003 --> KSTREAM_SINK_0000000002",
        "KSTREAM_SINK_0000000002 --> topic_KSTREAM_REPARTITION_0000000001_repartition",
        "topic_KSTREAM_REPARTITION_0000000001_repartition --> KSTREAM_SOURCE_0000000004",
        "KSTREAM_SOURCE_0000000004 --> KSTREAM_SINK_0000000005",
        "KSTREAM_SINK_0000000005 --> topic_output",
    ] {
        let found = mermaid.lines().filter(|l| l.trim() == line).count();
        assert_eq!(found, 1, "expected exactly one line {line:?} in\n{mermaid}");
    }
    // 2 subgraphs (open + end each), 5 nodes, 3 topics, 7 edges, and the header.
    assert_eq!(mermaid.lines().count(), 1 + 2 * 2 + 5 + 3 + 7, "{mermaid}");
}

#[test]
fn d4_dot_has_every_node_topic_and_edge() {
    let dot = d4().describe().to_dot();
    assert!(dot.starts_with("digraph topology {\n"), "{dot}");
    assert!(dot.ends_with("}\n"), "{dot}");
    for line in [
        "label=\"Sub-topology: 0\";",
        "label=\"Sub-topology: 1\";",
        "\"KSTREAM-SOURCE-0000000000\" [shape=box];",
        "\"KSTREAM-FILTER-0000000003\" [shape=box];",
        "\"KSTREAM-SINK-0000000002\" [shape=box];",
        "\"KSTREAM-SOURCE-0000000004\" [shape=box];",
        "\"KSTREAM-SINK-0000000005\" [shape=box];",
        "\"input\" [shape=cylinder];",
        "\"KSTREAM-REPARTITION-0000000001-repartition\" [shape=cylinder];",
        "\"output\" [shape=cylinder];",
        "\"input\" -> \"KSTREAM-SOURCE-0000000000\";",
        "\"KSTREAM-SOURCE-0000000000\" -> \"KSTREAM-FILTER-0000000003\";",
        "\"KSTREAM-FILTER-0000000003\" -> \"KSTREAM-SINK-0000000002\";",
        "\"KSTREAM-SINK-0000000002\" -> \"KSTREAM-REPARTITION-0000000001-repartition\";",
        "\"KSTREAM-REPARTITION-0000000001-repartition\" -> \"KSTREAM-SOURCE-0000000004\";",
        "\"KSTREAM-SOURCE-0000000004\" -> \"KSTREAM-SINK-0000000005\";",
        "\"KSTREAM-SINK-0000000005\" -> \"output\";",
    ] {
        let found = dot.lines().filter(|l| l.trim() == line).count();
        assert_eq!(found, 1, "expected exactly one line {line:?} in\n{dot}");
    }
    assert_eq!(dot.matches(" -> ").count(), 7, "{dot}");
}

/// The generated names of the other stateless operators, as Kafka Streams gives them
/// (`KStreamImpl`'s `MAP_NAME`, `FLATMAP_NAME`, `FLATMAPVALUES_NAME`, `PEEK_NAME`,
/// `KEY_SELECT_NAME`, `FILTER_NAME` for `filterNot`, `FOREACH_NAME`); a processor without
/// children prints `--> none`.
#[test]
fn generated_names_of_the_stateless_operators() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map(|k, v| (v, k))
        .flat_map(|k, v| vec![(k.clone(), v.clone()), (v, k)])
        .flat_map_values(|v| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .peek(|_, _| {})
        .select_key(|_, v| v.len() as i64)
        .filter_not(|k, _| *k == 0)
        .foreach(|_, _| {});
    assert_eq!(
        describe(builder),
        "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAP-0000000001 (stores: [])
      --> KSTREAM-FLATMAP-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FLATMAP-0000000002 (stores: [])
      --> KSTREAM-FLATMAPVALUES-0000000003
      <-- KSTREAM-MAP-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000003 (stores: [])
      --> KSTREAM-PEEK-0000000004
      <-- KSTREAM-FLATMAP-0000000002
    Processor: KSTREAM-PEEK-0000000004 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000005
      <-- KSTREAM-FLATMAPVALUES-0000000003
    Processor: KSTREAM-KEY-SELECT-0000000005 (stores: [])
      --> KSTREAM-FILTER-0000000006
      <-- KSTREAM-PEEK-0000000004
    Processor: KSTREAM-FILTER-0000000006 (stores: [])
      --> KSTREAM-FOREACH-0000000007
      <-- KSTREAM-KEY-SELECT-0000000005
    Processor: KSTREAM-FOREACH-0000000007 (stores: [])
      --> none
      <-- KSTREAM-FILTER-0000000006

"
    );
}

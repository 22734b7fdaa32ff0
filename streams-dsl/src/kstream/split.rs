//! `split`: route each record to the first branch whose predicate accepts it.

use std::collections::BTreeMap;
use std::sync::Arc;

use streams_core::{ProcessError, Processor, ProcessorContext, Record};

use crate::config::Named;
use crate::kstream::KStream;

type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// What a branch's `Branched` does with the branch stream: nothing, or build on it (and maybe
/// return the stream that stands for the branch in the result).
type Chain<K, V> = Box<dyn FnOnce(KStream<K, V>) -> Option<KStream<K, V>>>;

/// Sends each record to the child of the first matching predicate, or to the default child.
struct Branch<K, V> {
    predicates: Arc<Vec<(String, Predicate<K, V>)>>,
    default: Option<String>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V> for Branch<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<K, V>,
        r: Record<K, V>,
    ) -> Result<(), ProcessError> {
        for (child, p) in self.predicates.iter() {
            if p(&r.key, &r.value) {
                ctx.forward_to(child, r);
                return Ok(());
            }
        }
        if let Some(d) = &self.default {
            ctx.forward_to(d, r);
        }
        Ok(())
    }
}

/// How one branch of a `split` is named and used (Kafka's `Branched`).
pub struct Branched<K, V> {
    name: Option<String>,
    chain: Option<Chain<K, V>>,
}

impl<K, V> std::fmt::Debug for Branched<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Branched").field("name", &self.name).finish_non_exhaustive()
    }
}

impl<K, V> Default for Branched<K, V> {
    fn default() -> Self {
        Self { name: None, chain: None }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Branched<K, V> {
    /// The branch is `<split name><name>` in the topology and in the returned map.
    pub fn as_(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), chain: None }
    }

    /// Builds the branch's downstream with `f` right away; the branch is not in the returned map.
    pub fn with_consumer(f: impl FnOnce(KStream<K, V>) + 'static) -> Self {
        Self {
            name: None,
            chain: Some(Box::new(move |s| {
                f(s);
                None
            })),
        }
    }

    /// Replaces the branch's stream in the returned map with `f(branch)`.
    pub fn with_function(f: impl FnOnce(KStream<K, V>) -> KStream<K, V> + 'static) -> Self {
        Self { name: None, chain: Some(Box::new(move |s| Some(f(s)))) }
    }

    /// Also names the branch.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// The branches of a `split` being declared (Kafka's `BranchedKStream`).
pub struct BranchedKStream<K, V> {
    source: KStream<K, V>,
    split_name: String,
    predicates: Vec<(String, Predicate<K, V>)>,
    branches: BTreeMap<String, KStream<K, V>>,
    pending: Vec<(String, Option<Chain<K, V>>)>,
}

impl<K, V> std::fmt::Debug for BranchedKStream<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BranchedKStream").field("split", &self.split_name).finish_non_exhaustive()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Starts splitting this stream into branches (`KSTREAM-BRANCH-`). Each record goes to the
    /// first branch whose predicate accepts it, else to the default branch, if any, else nowhere.
    ///
    /// ```
    /// use streams_dsl::prelude::*;
    ///
    /// let builder = StreamsBuilder::new();
    /// let branches = builder.stream::<String, i64>("amounts")
    ///     .split_named(Named::as_("size-"))
    ///     .branch(|_, v| *v >= 100, Branched::as_("large"))
    ///     .default_branch(Branched::as_("small"));
    /// branches["size-large"].to("large");
    /// branches["size-small"].to("small");
    /// let driver = TopologyTestDriver::new(builder.build()?, StreamsConfig::new("doc"))?;
    /// let input = driver.input_topic::<String, i64>("amounts");
    /// input.pipe_input_at("a".into(), 500, 0)?;
    /// input.pipe_input_at("b".into(), 5, 1)?;
    /// assert_eq!(driver.output_topic::<String, i64>("large").read_values_to_list(), vec![500]);
    /// assert_eq!(driver.output_topic::<String, i64>("small").read_values_to_list(), vec![5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn split(&self) -> BranchedKStream<K, V> {
        self.split_impl(None)
    }

    /// [`KStream::split`] with a name: branches are then called `<name><branch name>`.
    pub fn split_named(&self, named: Named) -> BranchedKStream<K, V> {
        self.split_impl(Some(named))
    }

    fn split_impl(&self, named: Option<Named>) -> BranchedKStream<K, V> {
        let split_name = self.name(named, "KSTREAM-BRANCH-");
        BranchedKStream {
            source: self.clone(),
            split_name,
            predicates: Vec::new(),
            branches: BTreeMap::new(),
            pending: Vec::new(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> BranchedKStream<K, V> {
    /// Adds a branch for the records `predicate` accepts (and no earlier branch took). Unnamed
    /// branches are numbered from 1 in order.
    pub fn branch(
        mut self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        branched: Branched<K, V>,
    ) -> Self {
        let index = self.predicates.len() + 1;
        let child =
            format!("{}{}", self.split_name, branched.name.unwrap_or_else(|| index.to_string()));
        self.predicates.push((child.clone(), Arc::new(predicate)));
        self.pending.push((child, branched.chain));
        self
    }

    /// Ends the split with a branch for the records no predicate accepted (number 0 if unnamed),
    /// and returns the branches by name.
    pub fn default_branch(self, branched: Branched<K, V>) -> BTreeMap<String, KStream<K, V>> {
        let child =
            format!("{}{}", self.split_name, branched.name.unwrap_or_else(|| "0".to_string()));
        self.finish(Some((child, branched.chain)))
    }

    /// Ends the split without a default branch: unmatched records are dropped.
    pub fn no_default_branch(self) -> BTreeMap<String, KStream<K, V>> {
        self.finish(None)
    }

    fn finish(
        mut self,
        default: Option<(String, Option<Chain<K, V>>)>,
    ) -> BTreeMap<String, KStream<K, V>> {
        let predicates = Arc::new(std::mem::take(&mut self.predicates));
        let default_name = default.as_ref().map(|(n, _)| n.clone());
        let split: KStream<K, V> = {
            let preds = predicates.clone();
            let default_name = default_name.clone();
            let next = self.source.then(self.split_name.clone(), move || Branch {
                predicates: preds.clone(),
                default: default_name.clone(),
            });
            self.source.same_shape(next)
        };
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend(default);
        for (child, chain) in pending {
            // Kafka draws a name for every branch even though the branch's name is fixed.
            let _ = self.source.builder.borrow_mut().new_name(&child);
            let next = split.then(child.clone(), || super::merge::PassThrough);
            let branch = split.same_shape(next);
            match chain {
                None => {
                    self.branches.insert(child, branch);
                }
                Some(f) => {
                    if let Some(s) = f(branch) {
                        self.branches.insert(child, s);
                    }
                }
            }
        }
        self.branches
    }
}

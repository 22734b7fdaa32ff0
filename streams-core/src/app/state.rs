//! The application's lifecycle as explicit states with one transition function.

/// Where a [`KafkaStreams`](crate::KafkaStreams) application is in its life (Kafka's
/// `KafkaStreams.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Built, not started.
    Created,
    /// Threads are joining the group or taking over tasks.
    Rebalancing,
    /// Every thread is processing its tasks.
    Running,
    /// `close` was called; threads are committing and stopping.
    PendingShutdown,
    /// Stopped cleanly.
    NotRunning,
    /// A thread failed and the error handler stopped the application; threads are stopping.
    PendingError,
    /// Stopped after an error.
    Error,
}

impl State {
    /// Whether `self → to` is a legal move (Kafka's table of valid transitions).
    pub fn can_move_to(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Created, Rebalancing)
                | (Created, PendingShutdown)
                | (Rebalancing, Running)
                | (Rebalancing, PendingShutdown)
                | (Rebalancing, PendingError)
                | (Running, Rebalancing)
                | (Running, PendingShutdown)
                | (Running, PendingError)
                | (PendingShutdown, NotRunning)
                | (PendingError, Error)
        )
    }

    /// Whether the application is (or is becoming) active.
    pub fn is_running_or_rebalancing(self) -> bool {
        matches!(self, State::Running | State::Rebalancing)
    }
}

#[cfg(test)]
mod tests {
    use super::State::*;

    #[test]
    fn only_kafkas_transitions_are_allowed() {
        assert!(Created.can_move_to(Rebalancing));
        assert!(Rebalancing.can_move_to(Running));
        assert!(Running.can_move_to(Rebalancing));
        assert!(Running.can_move_to(PendingShutdown));
        assert!(PendingShutdown.can_move_to(NotRunning));
        assert!(Running.can_move_to(PendingError));
        assert!(PendingError.can_move_to(Error));
        assert!(!Created.can_move_to(Running));
        assert!(!NotRunning.can_move_to(Rebalancing));
        assert!(!Error.can_move_to(Running));
        assert!(!PendingShutdown.can_move_to(Running));
    }
}

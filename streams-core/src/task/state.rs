//! A task's lifecycle as explicit states with one transition function.

/// Where a task is in its life (Kafka's `Task.State`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    Created,
    Restoring,
    Running,
    Suspended,
    Closed,
}

impl TaskState {
    /// The state after moving to `to`, or why that move is illegal.
    pub(crate) fn transition(self, to: TaskState) -> Result<TaskState, String> {
        use TaskState::*;
        let ok = matches!(
            (self, to),
            (Created, Restoring)
                | (Created, Closed)
                | (Restoring, Running)
                | (Restoring, Suspended)
                | (Running, Suspended)
                | (Suspended, Restoring)
                | (Suspended, Closed)
        );
        if ok { Ok(to) } else { Err(format!("a task cannot move from {self:?} to {to:?}")) }
    }
}

#[cfg(test)]
mod tests {
    use super::TaskState::*;

    #[test]
    fn tasks_move_only_along_their_lifecycle() {
        assert_eq!(Created.transition(Restoring), Ok(Restoring));
        assert_eq!(Restoring.transition(Running), Ok(Running));
        assert_eq!(Running.transition(Suspended), Ok(Suspended));
        assert_eq!(Suspended.transition(Closed), Ok(Closed));
        assert!(Running.transition(Closed).is_err(), "running tasks are suspended before closing");
        assert!(Closed.transition(Running).is_err());
        assert!(Created.transition(Running).is_err());
    }
}

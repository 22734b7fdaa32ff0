//! Runnable example applications; see the `examples/` directory of this package.

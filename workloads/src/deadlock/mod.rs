//! Deadlock workloads: locks taken in an order that can deadlock, with a
//! watchdog that notices and reports who holds what.

pub mod lock_order;

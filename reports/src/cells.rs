//! What identifies a cell: one (workload, model, workers, placement,
//! scaling, load), whose records are its trials. Its statistics are the
//! analysis's ([`crate::analysis::CellRow`]), computed nowhere else.

use crate::schema::Record;

/// What identifies a cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    /// The workload's canonical spec.
    pub workload: String,
    /// Strong or weak.
    pub scaling: String,
    /// Closed or open.
    pub load: String,
    /// Placement strategy.
    pub placement: String,
    /// Execution model.
    pub model: String,
    /// Worker count.
    pub workers: u32,
}

impl CellKey {
    /// The key of the cell a record belongs to.
    pub fn of(record: &Record) -> Self {
        CellKey {
            workload: record.workload.spec.clone(),
            scaling: record.scaling.clone(),
            load: record.load.clone(),
            placement: record.placement.strategy.clone(),
            model: record.model.clone(),
            workers: record.workers,
        }
    }
}

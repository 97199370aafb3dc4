//! `report/fits.json`: the report's fitted laws
//! ([`crate::analysis::fitted::FitsFile`]) as JSON.

use super::Exporter;
use crate::analysis::fitted::FitsFile;
use crate::analysis::Analysis;
use crate::error::ExportError;

/// `fits.json`.
#[derive(Debug, Clone, Copy)]
pub struct FitsJson;

impl Exporter<Analysis> for FitsJson {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn file_name(&self) -> String {
        "fits.json".to_string()
    }

    fn description(&self) -> &'static str {
        "every fitted law, for scripts"
    }

    fn export(&self, analysis: &Analysis) -> Result<String, ExportError> {
        Ok(serde_json::to_string_pretty(&FitsFile::of(analysis))? + "\n")
    }
}

//! The loaded objects (the binary and its shared libraries) with their
//! unwind tables, for framehop. Read once per process, before the first
//! signal: the handler must not open files or allocate. Adapted from
//! pprof-rs's `framehop_unwinder/shlib.rs` (Apache-2.0), which does the
//! same for the CPU profile; that module is private to pprof.

use std::path::PathBuf;

use findshlibs::{SharedLibrary, TargetSharedLibrary};
use framehop::{Module, ModuleSectionInfo};
use object::{Object, ObjectSection};

/// One object file's sections, as framehop asks for them.
struct Sections<'f>(object::File<'f>);

impl<'f, D: From<&'f [u8]>> ModuleSectionInfo<D> for Sections<'f> {
    fn base_svma(&self) -> u64 {
        self.0.relative_address_base()
    }

    fn section_svma_range(&mut self, name: &[u8]) -> Option<std::ops::Range<u64>> {
        let section = self.0.section_by_name_bytes(name)?;
        Some(section.address()..section.address() + section.size())
    }

    fn section_data(&mut self, name: &[u8]) -> Option<D> {
        let section = self.0.section_by_name_bytes(name)?;
        Some(D::from(section.data().ok()?))
    }
}

/// Every object mapped into this process that could be read and parsed.
pub(super) fn loaded_modules() -> Vec<Module<Vec<u8>>> {
    let mut modules = Vec::new();
    TargetSharedLibrary::each(|library| {
        let path = PathBuf::from(library.name());
        let base_avma = library.actual_load_addr().0 as u64;
        let avma_range = base_avma..base_avma + library.len() as u64;
        let Ok(file) = std::fs::File::open(&path) else {
            return;
        };
        // SAFETY: the object is mapped read-only; a loaded library or
        // executable is not rewritten while it runs.
        let Ok(map) = (unsafe { memmap2::Mmap::map(&file) }) else {
            return;
        };
        if let Ok(object) = object::File::parse(&*map) {
            modules.push(Module::new(
                path.to_string_lossy().into_owned(),
                avma_range,
                base_avma,
                Sections(object),
            ));
        }
    });
    modules
}

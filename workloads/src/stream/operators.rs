//! The pipeline's operators, the same under every implementation: what a
//! quote is, how a source makes one, and what map, filter, window and sink
//! do to it. Nothing here knows about threads, tasks or channels; the
//! implementations in [`super::stages`] move quotes between these.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::kernel::spin_work;

/// Quote sizes are 1..=`MAX_SIZE` lots, evenly spread, so `pass_percent`
/// of them pass the filter exactly.
const MAX_SIZE: u32 = 100;

/// One simulated market quote on its way through the pipeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quote {
    /// Unique in the run: the source op's index.
    pub id: u64,
    /// Which instrument, `0..symbols`.
    pub symbol: u32,
    /// Price in the quote's currency.
    pub price: f64,
    /// Lots, 1..=100.
    pub size: u32,
    /// When the quote arrived: its due time under open load, else when
    /// the source made it. End-to-end latency counts from here.
    pub born: Instant,
    /// Set by the map stages: price times size, in the reporting currency.
    pub notional: f64,
    /// Folds in the map stages' work, so it cannot be skipped.
    pub checksum: u64,
    /// Set by the window stage: the symbol's volume-weighted average price
    /// over its last `window` quotes.
    pub vwap: f64,
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser), so quotes derived
/// from consecutive ids look unrelated.
fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The quote a source emits for op `id`: deterministic, so every run of a
/// plan feeds the same stream.
pub(crate) fn quote(id: u64, symbols: u32, born: Instant) -> Quote {
    let h = mix(id);
    let symbol = (h % u64::from(symbols.max(1))) as u32;
    // A price of 50 to 160, set by the symbol plus up to 10 of noise.
    let price = 50.0 + f64::from(symbol % 100) + ((h >> 20) % 1_000) as f64 / 100.0;
    Quote {
        id,
        symbol,
        price,
        size: sized(id),
        born,
        notional: 0.0,
        checksum: 0,
        vwap: 0.0,
    }
}

/// The size of quote `id`, 1..=100.
fn sized(id: u64) -> u32 {
    1 + ((mix(id) >> 40) % u64::from(MAX_SIZE)) as u32
}

/// One map stage: converts the price to the reporting currency, computes
/// the notional, and does `steps` of CPU work (the enrichment a real stage
/// would do: parsing, a lookup, a model). `stage` salts the work so two map
/// stages do different work on the same quote.
pub(crate) fn map(quote: &mut Quote, steps: u64, stage: usize) {
    const FX_RATE: f64 = 0.92;
    quote.checksum ^= spin_work(steps, quote.id ^ ((stage as u64) << 48));
    quote.notional = quote.price * FX_RATE * f64::from(quote.size);
}

/// The filter: keeps quotes whose size is in the largest `pass_percent`
/// percent of sizes (sizes are spread evenly, so exactly that share of a
/// long stream passes).
pub(crate) fn passes(quote: &Quote, pass_percent: u32) -> bool {
    quote.size > MAX_SIZE - pass_percent.min(MAX_SIZE)
}

/// Whether quote `id` passes the filter: what the sink must see.
pub(crate) fn id_passes(id: u64, pass_percent: u32) -> bool {
    sized(id) > MAX_SIZE - pass_percent.min(MAX_SIZE)
}

/// The window stage's state: per symbol, the last `length` quotes' prices
/// and sizes, with running sums so each quote costs O(1).
pub(crate) struct Window {
    length: usize,
    symbols: HashMap<u32, SymbolWindow>,
}

#[derive(Default)]
struct SymbolWindow {
    quotes: VecDeque<(f64, u32)>,
    price_volume: f64,
    volume: u64,
}

impl Window {
    /// A sliding window of the last `length` quotes per symbol.
    pub fn new(length: usize) -> Window {
        Window {
            length: length.max(1),
            symbols: HashMap::new(),
        }
    }

    /// Adds `quote` to its symbol's window and stamps the window's
    /// volume-weighted average price on it.
    pub fn aggregate(&mut self, quote: &mut Quote) {
        let window = self.symbols.entry(quote.symbol).or_default();
        window.quotes.push_back((quote.price, quote.size));
        window.price_volume += quote.price * f64::from(quote.size);
        window.volume += u64::from(quote.size);
        if window.quotes.len() > self.length {
            if let Some((price, size)) = window.quotes.pop_front() {
                window.price_volume -= price * f64::from(size);
                window.volume -= u64::from(size);
            }
        }
        quote.vwap = window.price_volume / window.volume.max(1) as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_deterministic_and_spread() {
        let now = Instant::now();
        let a = quote(7, 16, now);
        let b = quote(7, 16, now);
        assert_eq!((a.symbol, a.size, a.price), (b.symbol, b.size, b.price));
        let sizes: Vec<u32> = (0..10_000).map(|id| quote(id, 16, now).size).collect();
        assert!(sizes.iter().all(|s| (1..=100).contains(s)));
        let passed = (0..10_000u64).filter(|id| id_passes(*id, 30)).count();
        assert!((2_700..3_300).contains(&passed), "{passed} of 10000 at 30%");
        assert_eq!(
            (0..1_000u64).filter(|id| id_passes(*id, 100)).count(),
            1_000
        );
        assert_eq!((0..1_000u64).filter(|id| id_passes(*id, 0)).count(), 0);
    }

    #[test]
    fn filter_agrees_with_the_id_rule() {
        let now = Instant::now();
        for id in 0..1_000 {
            assert_eq!(passes(&quote(id, 8, now), 40), id_passes(id, 40));
        }
    }

    #[test]
    fn window_is_the_vwap_of_the_last_quotes() {
        let now = Instant::now();
        let mut window = Window::new(2);
        let mut q = |price: f64, size: u32| {
            let mut q = quote(0, 1, now);
            q.price = price;
            q.size = size;
            window.aggregate(&mut q);
            q.vwap
        };
        assert_eq!(q(10.0, 1), 10.0);
        assert_eq!(q(20.0, 3), (10.0 + 60.0) / 4.0);
        // The first quote has left the window.
        assert_eq!(q(40.0, 1), (60.0 + 40.0) / 4.0);
    }
}

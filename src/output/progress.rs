//! Progress on stderr while a scan runs: entries, bytes and rate while the
//! walk goes, then (`--dups`) files and bytes of each hashing stage.
//!
//! ```text
//!  workers 1..=N (and the main thread, 0)       sampler thread (the binary's)
//!  --------------------------------------       -----------------------------
//!  Progress<V>::Visit::entry                    every 100 ms (bar) or 5 s (lines):
//!    own entries += 1, blocks += st_blocks        sum the slots (relaxed loads)
//!    inner visitor's entry                        bar: after 1 s, redraw it (indicatif)
//!  end_batch: slot[i].store(local) -- slots -->   lines: `fdu: progress: ...`
//!  hashing workers (dups::pipeline)             Meter::finish: stop, join, erase the bar
//!    the same, per file and stage                 (before any output is printed)
//! ```
//!
//! **Cost.** Each worker owns a slot ([`Counters`]: one cache line each,
//! `CachePadded`) and writes it with plain relaxed stores of its own running
//! counts ([`Tally`]), once per batch of entries: no read-modify-write, no
//! line shared with another writer; one sampler reads them ten times a
//! second. The counting is a wrapping visitor ([`Progress`]), so the walker
//! is unchanged and a scan without progress runs the same code as before:
//! off costs nothing. On, it is two adds per entry (README: the measured
//! cost).
//!
//! **The screen.** The bar is drawn only when stderr is a terminal (and
//! `TERM` is not `dumb`), only after the scan has run for [`SHOW_AFTER`], at
//! most ten times a second, and erased before the output starts, so what
//! stdout and stderr end up showing is what they show without it. Errors
//! printed while it shows go through [`Meter::errors`] and
//! [`Meter::messages`]: the bar is erased first and drawn again at the next
//! tick, so each error is du's exact line. `--progress` where stderr is not
//! a terminal prints a plain line every [`LINE_EVERY`] instead (no escape
//! codes); `--no-progress` turns both off.
//!
//! Nothing here starts by itself: the library's [`Scan`] never draws; the
//! binary starts a [`Meter`] around the scan.
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use fdu_platform::Meta;
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{Config, Toggle};
use crate::diag::{self, ErrorSink, Messages, ScanError};
use crate::dirs::DirRef;
use crate::scan::{Ran, Scan, ScanFailed};
use crate::units::Units;
use crate::visit::{Step, Visit, Visitor};
use crate::walk::{Args, ScanOptions};
use crate::wire::{Reader, Writer};

/// The bar appears only once a scan has run this long.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);
/// Between two redraws of the bar (at most ten a second).
pub const TICK: Duration = Duration::from_millis(100);
/// Between two plain lines (`--progress` where stderr is not a terminal).
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// Test hook: every counted step (a scan entry, a file hashed by a stage)
/// takes this many milliseconds longer, so that a small tree takes long
/// enough for the bar and the lines to show (a scan sleeps at the end of
/// each batch, for all of its entries). Read when a [`Meter`] starts; only
/// a meter that is on reads it.
pub const DELAY_VAR: &str = "FDU_TEST_PROGRESS_DELAY_MS";

/// Per-worker counters, `N` per worker, each worker's on cache lines of
/// their own (`CachePadded`): written by their worker only (see
/// [`Tally`]), summed by the sampler.
pub struct Counters<const N: usize> {
    slots: Box<[CachePadded<[AtomicU64; N]>]>,
    /// See [`DELAY_VAR`].
    delay: Option<Duration>,
}

impl<const N: usize> Counters<N> {
    /// Counters for `slots` workers (index 0 included), all zero.
    pub fn new(slots: usize) -> Counters<N> {
        Counters {
            slots: (0..slots.max(1))
                .map(|_| CachePadded::new(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
            delay: None,
        }
    }

    /// The same, each counted step slowed down by `delay` (a test hook).
    pub fn slowed(mut self, delay: Option<Duration>) -> Counters<N> {
        self.delay = delay;
        self
    }

    /// Store `values` in slot `index` (its one writer: counts made
    /// outside this process's walk, as by the other ranks of an MPI job).
    pub fn put(&self, index: usize, values: [u64; N]) {
        let slot = &self.slots[index.min(self.slots.len() - 1)];
        for (field, value) in slot.iter().zip(values) {
            field.store(value, Ordering::Relaxed);
        }
    }

    /// The writer of slot `index`. An index past the last slot shares the
    /// last one (it would only undercount): size the counters for every
    /// worker.
    pub fn tally(&self, index: usize) -> Tally<'_, N> {
        Tally {
            slot: &self.slots[index.min(self.slots.len() - 1)],
            local: [0; N],
            delay: self.delay,
        }
    }

    /// Every slot summed, field by field.
    pub fn sum(&self) -> [u64; N] {
        self.sum_of(self.slots.len())
    }

    /// Slots `0..end` summed, field by field (a walk's own, without a
    /// slot [`Counters::put`] writes after them).
    pub fn sum_of(&self, end: usize) -> [u64; N] {
        let mut sum = [0; N];
        for slot in self.slots[..end.min(self.slots.len())].iter() {
            for (s, v) in sum.iter_mut().zip(slot.iter()) {
                *s += v.load(Ordering::Relaxed);
            }
        }
        sum
    }
}

/// One worker's writer: its running counts, kept in the worker and
/// stored to its slot (a relaxed store of a value only it writes: no
/// read-modify-write).
pub struct Tally<'c, const N: usize> {
    slot: &'c [AtomicU64; N],
    local: [u64; N],
    delay: Option<Duration>,
}

impl<const N: usize> Tally<'_, N> {
    /// Set field `field` to `value` (a count kept elsewhere), not yet
    /// published (see [`Tally::publish`]).
    #[inline]
    pub fn set(&mut self, field: usize, value: u64) {
        self.local[field] = value;
    }

    /// Store every field to the slot; returns how much `field` grew since
    /// the last time.
    #[inline]
    pub fn publish(&self, field: usize) -> u64 {
        let grew = self.local[field].saturating_sub(self.slot[field].load(Ordering::Relaxed));
        for (slot, &value) in self.slot.iter().zip(self.local.iter()) {
            slot.store(value, Ordering::Relaxed);
        }
        grew
    }

    /// Add `by` to field `field` and publish it.
    #[inline]
    pub fn add(&mut self, field: usize, by: u64) {
        self.local[field] += by;
        self.slot[field].store(self.local[field], Ordering::Relaxed);
    }

    /// The end of `steps` counted steps: sleeps `steps` times the delay
    /// of [`DELAY_VAR`], else nothing.
    #[inline]
    pub fn step(&self, steps: u64) {
        if let Some(delay) = self.delay {
            std::thread::sleep(delay * u32::try_from(steps).unwrap_or(u32::MAX));
        }
    }
}

/// Scan fields: entries seen.
pub const ENTRIES: usize = 0;
/// Scan fields: their allocated 512-byte blocks (`st_blocks`; a hard link
/// at each of its names).
pub const BLOCKS: usize = 1;
/// Fields of a scan's counters.
pub const SCAN_FIELDS: usize = 2;

/// The hashing stages of `--dups`, in order (see `crate::dups::pipeline`).
pub const STAGES: [&str; 3] = ["head", "tail", "full"];
/// Fields of the hashing counters: for each stage, files and bytes read,
/// then files and bytes known to be read (all of them for the head; the
/// later stages' grow as groups get past the earlier ones).
pub const HASH_FIELDS: usize = 4 * STAGES.len();

/// The field of hashing stage `stage` (an index into [`STAGES`]): files
/// (`bytes: false`) or bytes, read (`planned: false`) or to be read.
pub const fn hash_field(stage: usize, planned: bool, bytes: bool) -> usize {
    4 * stage + 2 * planned as usize + bytes as usize
}

/// The scan's visitor `V`, counting every entry for the progress display
/// before handing it on.
pub struct Progress<V> {
    inner: V,
    counters: Arc<Counters<SCAN_FIELDS>>,
}

impl<V: Visitor> Progress<V> {
    /// `inner`, counted into `counters` (one slot per walker thread: the
    /// scan's threads plus one).
    pub fn new(inner: V, counters: Arc<Counters<SCAN_FIELDS>>) -> Progress<V> {
        Progress { inner, counters }
    }
}

impl<V: Visitor> Visitor for Progress<V> {
    type Worker<'v>
        = Counted<'v, V::Worker<'v>>
    where
        Self: 'v;

    type Output = V::Output;

    fn worker(&self, index: usize) -> Self::Worker<'_> {
        Counted {
            entries: 0,
            inner: self.inner.worker(index),
            blocks: 0,
            tally: self.counters.tally(index),
        }
    }

    fn finish(&self, workers: Vec<Self::Worker<'_>>) -> V::Output {
        self.inner
            .finish(workers.into_iter().map(|w| w.inner).collect())
    }

    fn ordered(&self) -> bool {
        self.inner.ordered()
    }

    fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    fn idle(&self) {
        self.inner.idle();
    }

    fn walked_before(&self) -> &[(u64, u64)] {
        self.inner.walked_before()
    }
}

/// One worker's part of [`Progress`]: its tally, then the inner visit.
/// Counts are published at the end of each batch (at most
/// [`crate::walk::BATCH`] entries of one directory, and after each path
/// argument): per entry, two adds to the worker's own memory.
// In declaration order, the two counts apart: side by side, the compiler
// pairs their adds into vector instructions, three times as many.
#[repr(C)]
pub struct Counted<'v, W> {
    entries: u64,
    inner: W,
    blocks: u64,
    tally: Tally<'v, SCAN_FIELDS>,
}

impl<W> Counted<'_, W> {
    #[inline]
    fn count(&mut self, meta: &Meta) {
        self.entries += 1;
        self.blocks += meta.blocks;
    }
}

impl<W: Visit> Visit for Counted<'_, W> {
    type Dir = W::Dir;

    fn root(&mut self, arg: usize, display: &[u8], meta: &Meta) -> Step<W::Dir> {
        self.count(meta);
        self.inner.root(arg, display, meta)
    }

    #[inline]
    fn entry(&mut self, dir: &DirRef<'_, W::Dir>, name: &[u8], meta: &Meta) -> Step<W::Dir> {
        self.count(meta);
        self.inner.entry(dir, name, meta)
    }

    #[inline]
    fn end_batch(&mut self) {
        self.inner.end_batch();
        self.tally.set(ENTRIES, self.entries);
        self.tally.set(BLOCKS, self.blocks);
        let entries = self.tally.publish(ENTRIES);
        self.tally.step(entries);
    }

    fn error(&mut self, dir: Option<&W::Dir>, error: &ScanError) {
        self.inner.error(dir, error);
    }

    fn done(&mut self, dir: &W::Dir) {
        self.inner.done(dir);
    }

    fn may_start(&self, dir: &W::Dir) -> bool {
        self.inner.may_start(dir)
    }

    fn carry(dir: &W::Dir, out: &mut Writer) {
        W::carry(dir, out);
    }

    fn land(bytes: &mut Reader<'_>) -> Option<W::Dir> {
        W::land(bytes)
    }
}

/// How progress is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Not at all.
    Off,
    /// A line on the terminal, redrawn in place, erased at the end.
    Bar,
    /// A plain line every [`LINE_EVERY`] (no escape codes).
    Lines,
}

impl Mode {
    /// What `--progress`/`--no-progress` (`asked`) mean here: by default a
    /// bar when stderr is a terminal and the output is not for a program
    /// (`machine`: `-0`, `--dups --json`); `--progress` also where stderr is
    /// not a terminal, as plain lines; `--no-progress` never.
    pub fn choose(asked: Toggle, machine: bool) -> Mode {
        let dumb = matches!(std::env::var_os("TERM"), Some(t) if t == "dumb");
        let terminal = std::io::stderr().is_terminal() && !dumb;
        match (asked, terminal) {
            (Toggle::Off, _) => Mode::Off,
            (Toggle::Auto, false) => Mode::Off,
            (Toggle::Auto, true) if machine => Mode::Off,
            (_, true) => Mode::Bar,
            (Toggle::On, false) => Mode::Lines,
        }
    }

    /// The mode a command line asks for.
    pub fn for_config(config: &Config) -> Mode {
        let machine = config.null
            || config.dups.as_ref().is_some_and(|d| d.json)
            || config.format != crate::config::Format::Du
            || config.export.as_ref().is_some_and(|e| e.file == b"-");
        Mode::choose(config.progress, machine)
    }
}

/// What the sampler reads.
enum Source {
    /// Nothing yet.
    Idle,
    /// A scan, since `Instant`.
    Scan(Arc<Counters<SCAN_FIELDS>>, Instant),
    /// `--dups`'s hashing stages.
    Hash(Arc<Counters<HASH_FIELDS>>),
}

/// The bar, as the sampler and the error printers share it.
#[derive(Default)]
struct Screen {
    /// Made the first time it is drawn.
    bar: Option<ProgressBar>,
    /// On the terminal now (an error erases it until the next tick).
    shown: bool,
    /// The meter has finished: nothing is drawn any more.
    done: bool,
}

struct Shared {
    mode: Mode,
    started: Instant,
    delay: Option<Duration>,
    source: Mutex<Source>,
    screen: Mutex<Screen>,
    stop: Mutex<bool>,
    wake: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The progress display of one run: a sampler thread, started with the
/// meter and joined by [`Meter::finish`] (or when the meter is dropped).
/// Off, it is nothing: no thread, no counters, the scan's own visitor.
pub struct Meter {
    shared: Option<Arc<Shared>>,
    sampler: Mutex<Option<JoinHandle<()>>>,
}

impl Meter {
    /// A meter in `mode`; its sampler starts now (unless off).
    pub fn start(mode: Mode) -> Meter {
        if mode == Mode::Off {
            return Meter::off();
        }
        let delay = test_delay();
        let shared = Arc::new(Shared {
            mode,
            started: Instant::now(),
            delay,
            source: Mutex::new(Source::Idle),
            screen: Mutex::new(Screen::default()),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let sampler = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fdu-progress".into())
                .spawn(move || sample(&shared))
                .ok()
        };
        Meter {
            shared: Some(shared),
            sampler: Mutex::new(sampler),
        }
    }

    /// No progress at all.
    pub fn off() -> Meter {
        Meter {
            shared: None,
            sampler: Mutex::new(None),
        }
    }

    /// Where the scan's errors go: du's line on stderr, erasing the bar
    /// first while it shows.
    pub fn errors(&self) -> Arc<dyn ErrorSink + Send> {
        match &self.shared {
            Some(shared) => Arc::new(Printer(shared.clone())),
            None => Arc::new(diag::Stderr),
        }
    }

    /// What erases the bar before other output goes to its terminal;
    /// `None` when no bar is drawn.
    pub fn eraser(&self) -> Option<Eraser> {
        let shared = self.shared.as_ref()?;
        (shared.mode == Mode::Bar).then(|| Eraser(shared.clone()))
    }

    /// Where other messages of the run go (`--dups`'s unreadable files),
    /// the same way.
    pub fn messages(&self) -> Arc<dyn Messages + Send> {
        match &self.shared {
            Some(shared) => Arc::new(Printer(shared.clone())),
            None => Arc::new(diag::Stderr),
        }
    }

    /// Run `scan` with the visitor `make` builds, counted for the display
    /// when the meter is on (see [`Scan::run_with`]).
    pub fn run<'a, V: Visitor>(
        &self,
        scan: &'a Scan,
        make: impl FnOnce(&'a ScanOptions, &Args) -> V,
    ) -> Result<Ran<V::Output>, ScanFailed> {
        let Some(shared) = &self.shared else {
            return scan.run_with(make);
        };
        let slots = scan.scan_options().workers.most() + 1;
        let counters = Arc::new(Counters::new(slots).slowed(shared.delay));
        *lock(&shared.source) = Source::Scan(counters.clone(), Instant::now());
        scan.run_with(|opts, args| Progress::new(make(opts, args), counters))
    }

    /// Show `counters` from now on: a scan counted by the caller (the
    /// ranks of an MPI job, `crate::ranks`). Nothing when the meter is off.
    pub fn watch(&self, counters: Arc<Counters<SCAN_FIELDS>>) {
        if let Some(shared) = &self.shared {
            *lock(&shared.source) = Source::Scan(counters, Instant::now());
        }
    }

    /// The hashing stages start, with `threads` workers (slots 1..=threads;
    /// 0 is the caller's): the counters they bump, when the meter is on.
    pub fn hashing(&self, threads: usize) -> Option<Arc<Counters<HASH_FIELDS>>> {
        let shared = self.shared.as_ref()?;
        let counters = Arc::new(Counters::new(threads.max(1) + 1).slowed(shared.delay));
        *lock(&shared.source) = Source::Hash(counters.clone());
        Some(counters)
    }

    /// Stop the sampler, wait for it, and erase the bar: after this,
    /// nothing more is drawn. Call it before printing the output.
    pub fn finish(&self) {
        let Some(shared) = &self.shared else { return };
        *lock(&shared.stop) = true;
        shared.wake.notify_all();
        if let Some(sampler) = lock(&self.sampler).take() {
            let _ = sampler.join();
        }
        let mut screen = lock(&shared.screen);
        screen.done = true;
        if let Some(bar) = screen.bar.take() {
            if screen.shown {
                bar.finish_and_clear();
            }
        }
        screen.shown = false;
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Erases the bar before output goes to its terminal (see
/// [`Meter::eraser`]); the sampler draws it again at its next tick.
pub struct Eraser(Arc<Shared>);

impl Eraser {
    /// Take the bar off the screen, if it shows, and keep it off while
    /// the returned guard lives.
    pub fn erase(&self) -> Erased<'_> {
        Erased(erase(&self.0))
    }
}

/// The bar kept off the screen (see [`Eraser::erase`]).
pub struct Erased<'e>(#[allow(dead_code)] MutexGuard<'e, Screen>);

/// Take the bar off the screen, if it shows; nothing draws it again while
/// the returned guard is held.
fn erase(shared: &Shared) -> MutexGuard<'_, Screen> {
    let mut screen = lock(&shared.screen);
    if screen.shown {
        if let Some(bar) = &screen.bar {
            bar.finish_and_clear();
        }
        screen.shown = false;
    }
    screen
}

/// Prints messages around the bar (see [`Meter::errors`]).
struct Printer(Arc<Shared>);

impl Messages for Printer {
    fn report(&self, message: &str) {
        let _screen = erase(&self.0);
        diag::report(message);
    }
}

impl ErrorSink for Printer {
    fn error(&self, error: &ScanError) {
        Messages::report(self, &error.message());
    }
}

/// The delay of [`DELAY_VAR`], if set.
pub fn test_delay() -> Option<Duration> {
    std::env::var(DELAY_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// The sampler thread: wake every tick until told to stop.
fn sample(shared: &Shared) {
    let every = match shared.mode {
        Mode::Lines => LINE_EVERY,
        _ => TICK,
    };
    let mut next = shared.started + every;
    loop {
        let mut stop = lock(&shared.stop);
        loop {
            if *stop {
                return;
            }
            let now = Instant::now();
            if now >= next {
                break;
            }
            stop = shared
                .wake
                .wait_timeout(stop, next - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(stop);
        next += every;
        match shared.mode {
            Mode::Lines => diag::report(&format!("progress: {}", describe(shared))),
            _ if shared.started.elapsed() < SHOW_AFTER => {}
            _ => draw(shared, describe(shared)),
        }
    }
}

/// Draw the bar with `text`.
fn draw(shared: &Shared, text: String) {
    let mut screen = lock(&shared.screen);
    if screen.done {
        return;
    }
    match &screen.bar {
        None => {
            let style = ProgressStyle::with_template("{wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let target = ProgressDrawTarget::stderr_with_hz((1000 / TICK.as_millis()) as u8);
            let bar = ProgressBar::with_draw_target(None, target).with_style(style);
            bar.set_message(text);
            screen.bar = Some(bar);
        }
        Some(bar) => {
            bar.set_message(text);
            if !screen.shown {
                // Erased by an error since the last tick.
                bar.reset();
            }
        }
    }
    screen.shown = true;
}

/// What the display says now.
fn describe(shared: &Shared) -> String {
    let elapsed = shared.started.elapsed();
    let what = match &*lock(&shared.source) {
        Source::Idle => "starting".to_string(),
        Source::Scan(counters, since) => {
            let sum = counters.sum();
            let secs = since.elapsed().as_secs_f64();
            let rate = if secs > 0.0 {
                (sum[ENTRIES] as f64 / secs) as u64
            } else {
                0
            };
            format!(
                "scanning: {} entries, {} on disk, {} entries/s",
                HumanCount(sum[ENTRIES]),
                human(sum[BLOCKS].saturating_mul(512)),
                HumanCount(rate),
            )
        }
        Source::Hash(counters) => {
            let sum = counters.sum();
            let stages: Vec<String> = STAGES
                .iter()
                .enumerate()
                .map(|(s, name)| {
                    let at = |planned, bytes| sum[hash_field(s, planned, bytes)];
                    format!(
                        "{name} {}/{}{} {}/{}",
                        HumanCount(at(false, false)),
                        HumanCount(at(true, false)),
                        if s == 0 { " files" } else { "" },
                        human(at(false, true)),
                        human(at(true, true)),
                    )
                })
                .collect();
            format!("hashing: {}", stages.join(", "))
        }
    };
    format!("{what}, {}", clock(elapsed))
}

/// Bytes as `du -h` prints them (`0`, `4.0K`, `1.2G`).
fn human(bytes: u64) -> String {
    let mut out = Vec::new();
    Units::Human { base: 1024 }.format(bytes, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `42s`, `3m07s`, `1h02m03s`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_write_their_own_slots_and_the_sum_adds_them() {
        let counters: Counters<2> = Counters::new(3);
        let mut a = counters.tally(0);
        let mut b = counters.tally(2);
        a.add(ENTRIES, 1);
        a.add(ENTRIES, 1);
        b.add(BLOCKS, 8);
        // Past the last slot: shares it.
        counters.tally(7).add(ENTRIES, 5);
        assert_eq!(counters.sum(), [7, 8]);
        // Set, then published at once.
        a.set(ENTRIES, 5);
        assert_eq!(counters.sum(), [7, 8]);
        assert_eq!(a.publish(ENTRIES), 3);
        assert_eq!(counters.sum(), [10, 8]);
    }

    #[test]
    fn hash_fields_are_distinct() {
        let mut seen = Vec::new();
        for s in 0..STAGES.len() {
            for planned in [false, true] {
                for bytes in [false, true] {
                    seen.push(hash_field(s, planned, bytes));
                }
            }
        }
        seen.sort();
        assert_eq!(seen, (0..HASH_FIELDS).collect::<Vec<_>>());
    }

    #[test]
    fn bytes_read_as_du_h_prints_them() {
        assert_eq!(human(0), "0");
        assert_eq!(human(4096), "4.0K");
        assert_eq!(human(1_288_490_188), "1.2G");
        assert_eq!(human(1_288_490_189), "1.3G");
    }

    #[test]
    fn clock_reads_like_a_stopwatch() {
        assert_eq!(clock(Duration::from_millis(4_900)), "4s");
        assert_eq!(clock(Duration::from_secs(187)), "3m07s");
        assert_eq!(clock(Duration::from_secs(3723)), "1h02m03s");
    }

    #[test]
    fn off_is_nothing() {
        let meter = Meter::start(Mode::Off);
        assert!(meter.hashing(4).is_none());
        meter.finish();
    }
}

//! `-j auto`: how many workers run, chosen while the scan runs.
//!
//! A scan is as fast as the requests it keeps in flight allow, up to what
//! the CPUs or the storage can take. On a warm local disk every request is
//! CPU time and a few workers per CPU saturate the CPUs; on a file system
//! that answers each request after a round trip, throughput grows with the
//! workers until the server is saturated. No fixed number fits both, nor a
//! tree whose top is cached and bottom is not. So the walker starts
//! [`Workers::Auto`]'s `start` workers, keeps a pool of up to `max`
//! threads (spawned as they are first needed), and lets a [`Controller`]
//! set how many of them may run tasks: the *permits*. A worker beyond the
//! permits finishes the task it runs and parks without a timeout, leaving
//! its deque to the others (so the count in flight drops at once).
//!
//! # The rule
//!
//! The main thread wakes every few milliseconds while the walk runs; at
//! each wake-up it hands the controller the count of requests the workers
//! have completed (stats, opens, listings) and how many workers are idle.
//! The controller measures throughput over *windows* (at least
//! [`MIN_WINDOW`], [`MIN_REQUESTS`] requests and [`WINDOW_TRIPS`] round
//! trips of a request: the workers at work over the requests they
//! complete per second, by Little's law, from the window before) and
//! climbs:
//!
//! * **Ramp.** From the start, and again whenever the rate moves by half
//!   or more, it takes bigger steps over shorter windows (at least
//!   [`RAMP_WINDOW`], [`RAMP_REQUESTS`] and [`RAMP_TRIPS`] round trips:
//!   at 5 ms a request, a 20 ms window is four, and whether a doubling
//!   paid is lost in the noise): twice the workers while the
//!   CPUs have time left and each doubling completes [`UP_GAIN`] more
//!   requests per second; half while this scan keeps the CPUs busy and
//!   half of them complete at least 97% as much (down to one per CPU).
//!   When others keep the CPUs busy, the ramp ends at once. A halving
//!   that lost is undone and ends the ramp; one whose window left
//!   workers idle is undone and taken again later (up to [`RAMP_IDLE`]
//!   times). A storage whose best count is 8 times the start is reached
//!   in three short windows, not three probes each followed by a window
//!   back at the old count.
//! * **Turn.** A doubling that gained less than [`UP_GAIN`] is undone
//!   and, in the scan's first ramp, unless a doubling of it paid (half
//!   the count is then known to complete less), turns it down, once: half the count
//!   before it is tried, and halvings go on while each completes as much
//!   (within 3%, or within [`DOWN_NOISE`] when the doubling lost more
//!   than that: the storage is past its best count, as a server whose
//!   threads contend serves fewer requests the more ask). The first
//!   halving that loses ends the ramp at the count before it. A storage
//!   whose best count is a quarter of the start is reached in about four
//!   short windows. A ramp after a change of storage does not turn: the
//!   rate falls while the walk enters the slower part, and a doubling
//!   looks lost. One that gained less than [`UP_GAIN`] is kept and ends
//!   the ramp.
//! * **Probe.** Between windows it tries twice or half the workers for one
//!   window (after [`SETTLE_PROBE`]: a storage follows a new count late),
//!   then the old count for one more, and judges the trial against the mean of the windows on either
//!   side (so a throughput that drifts as the walk moves on cancels out).
//!   Twice the workers are kept only if they complete [`UP_GAIN`] more
//!   requests per second ([`PROBE_GAIN`] once the noise below has three
//!   samples), or twice ([`NOISE_TIMES`]) what the rate moves by itself
//!   between windows at the same count, if more (on a noisy storage a
//!   lucky window is no reason to double); trials up from one count that
//!   did not pay pool what they gained, and `n` of them pay when their
//!   mean gain (as `ln`) beats that bar over `sqrt(n)`. Half of them unless
//!   they complete 3% fewer ([`DOWN_GAIN`]), or fewer by more than the
//!   rate's noise (up to [`DOWN_NOISE`]): fewer workers for the same
//!   throughput leave CPU to whoever else needs it. The noise is a moving
//!   mean of how far `ln(rate / previous rate)` strays from its own
//!   moving mean, so a walk that gets steadily faster is not noisy; until
//!   it has three samples, it may be drift, and half the workers are
//!   held to 3%.
//! * **Which way first.** When the machine's CPUs are saturated (at least
//!   [`SATURATED`] busy over the window) by this scan (at least [`OWN`] of
//!   the busy time), nothing is tried: the workers are the CPUs' work.
//!   Saturated by others (a local file server, another job), fewer workers
//!   are tried first: each one takes CPU time from them. Otherwise more,
//!   as workers are waiting for the storage.
//! * **Back off.** A probe that did not pay is not tried again in that
//!   direction for 2, 4, ... up to [`MAX_BACKOFF`] windows, and for at
//!   least its loss over [`PROBE_BUDGET`] windows (a trial that lost 40%
//!   waits 20), so a settled scan spends a few percent of its time
//!   probing. The ramp's last steps set the waits the same way: a
//!   halving that lost, a doubling that did not pay, and the doubling
//!   that paid before it (seen from above, the way down loses what it
//!   gained). A trial up that gained too little to pay costs nothing and is
//!   tried again after two windows. A kept probe is followed at once by
//!   the next one the same way.
//! * **Start over.** When throughput moves to half or twice what it was
//!   where the count was last settled (the end of the ramp, a kept probe;
//!   the walk left a cached subtree for a cold one, or the other
//!   way), or between a probe's trial and the window after it, the
//!   back-off is forgotten and the ramp runs again.
//! * **Not from the start.** The first window (the walk spreading out
//!   from its argument) only measures: the ramp's first doubling is
//!   judged against the second.
//! * **Not the workers' fault.** A window in which a quarter of the
//!   workers or more had nothing to do (a narrow part of the tree, the
//!   output holding directories back) says nothing of the count: it
//!   neither starts a probe nor judges one (a probe is undone).
//! * **Not the old count's requests.** After the count drops, no window
//!   opens while workers past it still finish a task (up to
//!   [`MAX_WINDOW`]): a piece of a stat batch is 32 requests, 160 ms at
//!   5 ms each, and a window would credit them to the new count.
//! * **Slow workers.** A tree can hold two storages at once (a subtree
//!   behind a round trip of milliseconds under a local top): every
//!   [`SLOW_SPAN`], a worker whose requests took [`SLOW_TIMES`] as long
//!   as the others' does not hold a permit, one more runs in its place,
//!   and thieves take its tasks first (see [`Controller::running`]).
//!   When the others' requests come to take as long (the walk has left
//!   the fast part), the workers that ran become the count
//!   ([`Why::Joined`]) and the ramp starts again from there.
//!
//! The numbers behind the constants are in README ("Concurrency").

use std::time::Duration;

use fdu_platform::cpu::{CpuTimes, CpuUse};

/// How many workers a scan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    /// Exactly this many, all the time (`-j N`).
    Fixed(usize),
    /// Start with `start` and let a [`Controller`] move between `min` and
    /// `max` (`-j auto`).
    Auto {
        /// Workers at the start.
        start: usize,
        /// The fewest the controller goes down to.
        min: usize,
        /// The most: the size of the pool.
        max: usize,
    },
}

/// The most workers `-j` accepts, and the pool's size under `-j auto`
/// on a machine of 8 CPUs or more (see [`Workers::auto`]).
pub const MAX_WORKERS: usize = 1024;

impl Workers {
    /// `-j auto`, the default, for this machine: start at eight workers per CPU (8 to
    /// 64), go down to 2, and up to 128 per CPU (256 to
    /// [`MAX_WORKERS`]).
    pub fn auto() -> Workers {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Workers::Auto {
            start: (cpus * 8).clamp(8, 64),
            min: 2,
            max: (cpus * 128).clamp(256, MAX_WORKERS),
        }
    }

    /// The most workers that may run: the size of the pool.
    pub fn most(&self) -> usize {
        match *self {
            Workers::Fixed(n) => n.max(1),
            Workers::Auto { start, max, .. } => max.max(start).max(1),
        }
    }

    /// Workers at the start.
    pub fn start(&self) -> usize {
        match *self {
            Workers::Fixed(n) => n.max(1),
            Workers::Auto { start, .. } => start.max(1),
        }
    }

    /// At most `most` workers (the descriptor limit's share): the pool and
    /// the start shrink to fit.
    pub fn capped(self, most: usize) -> Workers {
        let most = most.max(1);
        match self {
            Workers::Fixed(n) => Workers::Fixed(n.clamp(1, most)),
            Workers::Auto { start, min, max } => {
                let max = max.clamp(1, most);
                Workers::Auto {
                    start: start.clamp(1, max),
                    min: min.clamp(1, max),
                    max,
                }
            }
        }
    }

    /// Whether a controller moves the count.
    pub fn adaptive(&self) -> bool {
        matches!(self, Workers::Auto { .. })
    }
}

/// Windows last at least this long.
pub const MIN_WINDOW: Duration = Duration::from_millis(60);
/// Windows hold at least this many completed requests (unless they reach
/// [`MAX_WINDOW`]).
pub const MIN_REQUESTS: u64 = 256;
/// A window closes after this long whatever it holds.
pub const MAX_WINDOW: Duration = Duration::from_millis(400);
/// After a change, the walk runs this long before a window opens: new
/// workers find work, parked ones finish theirs.
pub const SETTLE: Duration = Duration::from_millis(10);
/// ... and this long before a probe's trial window: the storage gets used
/// to the new count too (on the 0.2 ms latency file system, 8 workers
/// after 4 complete 9% fewer requests over their first 25 ms than 50 ms
/// later, and 4 after 8 complete 4% more), and a trial judged over its
/// first milliseconds is judged by the count it left.
pub const SETTLE_PROBE: Duration = Duration::from_millis(40);
/// After a trial, the old count runs this long before its window opens.
pub const SETTLE_BACK: Duration = Duration::from_millis(30);
/// Twice the workers are kept when they complete this share more requests
/// per second.
pub const UP_GAIN: f64 = 0.10;
/// ... or, once the rate's noise between windows at the same count is
/// known (three samples), this share ...
pub const PROBE_GAIN: f64 = 0.05;
/// ... or this many times that noise, if more.
pub const NOISE_TIMES: f64 = 2.0;
/// The most one pair of windows adds to the noise (as `|ln(ratio)|`).
pub const NOISE_CAP: f64 = 0.3;
/// Weight of each new sample in the noise's moving mean.
pub const NOISE_WEIGHT: f64 = 0.25;
/// Half the workers are kept when they complete this share more requests
/// per second (negative: unless they complete that share fewer).
pub const DOWN_GAIN: f64 = -0.03;
/// Half the workers are kept when they complete fewer requests by no more
/// than the rate's own noise between windows, up to this share.
pub const DOWN_NOISE: f64 = 0.10;
/// A machine this busy (share of all CPUs' time) has no CPU left for more
/// workers: fewer are tried first.
pub const SATURATED: f64 = 0.90;
/// When the machine is saturated and this scan used at least this share of
/// the busy CPU time, the count is left alone.
pub const OWN: f64 = 0.75;
/// The longest wait, in windows, before a direction that did not pay is
/// tried again.
pub const MAX_BACKOFF: u32 = 32;
/// The share of a settled scan's time that the throughput lost in trials
/// may cost: a trial that lost a share `l` is not tried again that way
/// for `l / PROBE_BUDGET` windows (up to [`MAX_BACKOFF`]).
pub const PROBE_BUDGET: f64 = 0.02;
/// Windows of the ramp last at least this long ...
pub const RAMP_WINDOW: Duration = Duration::from_millis(20);
/// ... and hold at least this many requests.
pub const RAMP_REQUESTS: u64 = 64;
/// Windows of the ramp last at least this many round trips of a request
/// (workers at work over requests completed per second: Little's law) ...
pub const RAMP_TRIPS: f64 = 12.0;
/// ... and the others this many: at 5 ms a request, a 20 ms window is
/// four round trips, and whether a doubling paid is in the noise.
pub const WINDOW_TRIPS: f64 = 20.0;
/// After a change, the walk runs at least this many round trips before a
/// window opens.
pub const SETTLE_TRIPS: f64 = 2.0;
/// How often the controller looks for workers that wait on a slower
/// storage than the others' (see [`Controller::running`]).
pub const SLOW_SPAN: Duration = Duration::from_millis(50);
/// A worker is slow when its requests take this many times as long as the
/// other workers' (the lower median of those not slow).
pub const SLOW_TIMES: f64 = 4.0;
/// At most this many slow workers per permit run beyond the count.
pub const SLOW_MOST: usize = 3;
/// Steps of a ramp undone because the workers were idle, before it ends
/// (a tree too narrow to say anything leaves the count to the probes).
pub const RAMP_IDLE: u32 = 3;

/// Why the count changed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Why {
    /// A probe: twice or half the workers, for one window.
    Probe,
    /// Back to the count before the probe, for one window: the trial is
    /// judged against the windows on either side.
    Back,
    /// The probe paid: requests per second went from `before` (the mean
    /// of the windows on either side of the trial) to `after`.
    Kept {
        /// Requests per second around the trial.
        before: f64,
        /// Requests per second during it.
        after: f64,
    },
    /// The probe did not pay: the count stays where it was.
    Undone {
        /// Requests per second around the trial.
        before: f64,
        /// Requests per second during it.
        after: f64,
    },
    /// Undone without a verdict: the workers had too little to do.
    Inconclusive,
    /// A step of the ramp: twice the workers while they wait for the
    /// storage, half while the scan keeps the CPUs busy; `rate` is the
    /// requests per second of the window that asked for it.
    Ramp {
        /// Requests per second of the window before the step.
        rate: f64,
    },
    /// The ramp is over, at this count: `rate` is what the last step's
    /// window completed.
    Ramped {
        /// Requests per second of the last window of the ramp.
        rate: f64,
    },
    /// The storage that was slow for some workers is now as slow for
    /// the others: the count is the workers that ran (the permits and
    /// those in place of slow ones), and the ramp starts from there.
    Joined,
}

/// One change of the count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Change {
    /// Since the controller started.
    pub at: Duration,
    /// Permits before.
    pub from: usize,
    /// Permits after.
    pub to: usize,
    /// Why.
    pub why: Why,
}

/// What the controller did over a scan (for `--stats`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Permits at the start.
    pub start: usize,
    /// The fewest permits at any time.
    pub low: usize,
    /// The most permits at any time.
    pub high: usize,
    /// Permits at the end.
    pub end: usize,
    /// Windows measured.
    pub windows: u64,
    /// Every change, in order.
    pub changes: Vec<Change>,
    /// The most workers that ran beyond the count at once, in place of
    /// workers waiting on a slower storage than the others'.
    pub beyond: usize,
}

/// One window being measured.
#[derive(Clone, Copy, Debug)]
struct Window {
    start: Duration,
    requests: u64,
    cpu: CpuTimes,
    ticks: u32,
    idle: usize,
}

/// A probe under way.
#[derive(Clone, Copy, Debug)]
struct Probe {
    from: usize,
    to: usize,
    /// Requests per second at `from` before the trial.
    before: f64,
    /// Requests per second at `to`, once its window is over.
    trial: Option<f64>,
}

/// One way to move, and when it may be tried.
#[derive(Clone, Copy, Debug)]
struct Direction {
    /// Windows to wait before the next probe this way.
    wait: u32,
    /// The wait after the next probe that does not pay.
    backoff: u32,
}

impl Direction {
    fn fresh(wait: u32) -> Direction {
        Direction { wait, backoff: 2 }
    }

    /// A step this way did not pay: it completed `ratio` times the
    /// requests of the count it left. It cost what it lost, for a
    /// window: waiting at least that loss over [`PROBE_BUDGET`] windows
    /// keeps what steps this way cost under that share of the scan.
    fn back_off(&mut self, ratio: f64) {
        if ratio >= 1.0 {
            // It cost nothing, and gained a little (see
            // `Controller::pooled`): soon again, to tell whether it pays.
            self.wait = self.wait.max(2);
            return;
        }
        let loss = 1.0 - ratio;
        let pay_back = (loss / PROBE_BUDGET).ceil().min(f64::from(MAX_BACKOFF)) as u32;
        self.wait = self.backoff.max(pay_back);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sets the number of runnable workers from what the walk completes: see
/// the module's documentation for the rule.
#[derive(Debug)]
pub struct Controller {
    min: usize,
    max: usize,
    permits: usize,
    settle_until: Duration,
    /// When the count last changed.
    changed: Duration,
    window: Option<Window>,
    probe: Option<Probe>,
    /// Requests per second of the last window at the current count.
    rate: Option<f64>,
    /// How long a request takes, from the last window: the workers at
    /// work over the requests they completed per second.
    trip: Duration,
    /// The rate where the count was last settled (the ramp's end, a kept
    /// probe): a rate half or twice it is another storage.
    base: Option<f64>,
    up: Direction,
    down: Direction,
    /// The last window that was not a trial: its count and rate.
    last: Option<(usize, f64)>,
    /// How much the rate moves between windows at the same count, apart
    /// from its drift: a moving mean of `|x - drift|`, where `x` is
    /// `ln(rate / previous rate)` and `drift` a moving mean of `x` (a walk
    /// that gets faster all the time is not noisy); and its samples.
    noise: f64,
    drift: f64,
    samples: u32,
    /// Whether the ramp runs, and its last step: the count before it and
    /// the rate there.
    ramping: bool,
    step: Option<(usize, f64)>,
    /// Set when this ramp turned down (its doubling did not pay): halvings
    /// are tried while they complete as much, or at most this share less
    /// (more when the doubling lost).
    turned: Option<f64>,
    /// Whether the storage changed since the start (a ramp ran again).
    restarted: bool,
    /// The probes up that did not pay from the current count since it was
    /// settled: the count, how many, and the sum of their `ln(trial /
    /// around)`.
    pooled: Option<(usize, u32, f64)>,
    /// Set when a doubling of this ramp paid, to what it completed over
    /// the count before: half its count is known to complete less, and a
    /// doubling that does not pay does not turn.
    climbed: Option<f64>,
    /// Steps of this ramp undone because the workers were idle.
    ramp_idle: u32,
    /// One worker per CPU: where a ramp down stops.
    floor: usize,
    /// When the workers' requests were last counted, and what was seen
    /// of each worker then.
    slow_at: Duration,
    seen: Vec<Seen>,
    /// How long the others' requests took at the last look that had
    /// busy workers that were not slow (the lower median).
    median: Option<f64>,
    /// How many workers the last call of [`Controller::running`] let run.
    ran: usize,
    history: History,
}

/// What [`Controller::running`] last saw of one worker.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// Requests it had completed (a running total).
    done: u64,
    /// Whether it ran a task.
    busy: bool,
    /// Whether its requests took [`SLOW_TIMES`] as long as the others'.
    slow: bool,
}

/// How many workers may run, from [`Controller::running`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    /// The permits, and one more in place of each slow worker.
    pub workers: usize,
    /// Whether this call looked at the workers again: which are slow
    /// ([`Controller::is_slow`]) may have changed.
    pub looked: bool,
}

impl Controller {
    /// A controller for `workers` (with [`Workers::Fixed`], one that never
    /// moves: `min = max = start`).
    pub fn new(workers: Workers) -> Controller {
        let (start, min, max) = match workers {
            Workers::Fixed(n) => (n.max(1), n.max(1), n.max(1)),
            Workers::Auto { start, min, max } => (start, min.min(start), max.max(start)),
        };
        Controller {
            min,
            max,
            permits: start,
            settle_until: SETTLE,
            changed: Duration::ZERO,
            window: None,
            probe: None,
            rate: None,
            trip: Duration::ZERO,
            base: None,
            up: Direction::fresh(0),
            down: Direction::fresh(0),
            last: None,
            noise: 0.0,
            drift: 0.0,
            samples: 0,
            ramping: true,
            step: None,
            turned: None,
            restarted: false,
            climbed: None,
            pooled: None,
            ramp_idle: 0,
            floor: cpus().clamp(min, max),
            slow_at: Duration::ZERO,
            seen: Vec::new(),
            median: None,
            ran: start,
            history: History {
                start,
                low: start,
                high: start,
                end: start,
                windows: 0,
                changes: Vec::new(),
                beyond: 0,
            },
        }
    }

    /// Workers that may take work now.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// What the controller did so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// How many workers may run: the permits, and in place of each worker
    /// among them that waits on a storage much slower than the others'
    /// one more (up to [`SLOW_MOST`] per permit). `workers` gives each
    /// spawned worker's completed requests (a running total) and whether
    /// it runs a task now.
    ///
    /// A tree whose top is local and one subtree behind a round trip of
    /// milliseconds has two storages at once: the count that suits the
    /// fast part (a few workers) leaves the slow subtree to the one or two
    /// workers that entered it, and the whole walk waits for them at the
    /// end, or the fast part waits behind them when they are all there.
    /// So, every [`SLOW_SPAN`], a worker that ran a task all along and
    /// whose requests took more than [`SLOW_TIMES`] as long as the other
    /// workers' is slow, and does not hold a permit until the next span: the fast part keeps the count the
    /// controller chose, the slow one gets workers as they enter it.
    pub fn running(
        &mut self,
        now: Duration,
        workers: impl Iterator<Item = (u64, bool)>,
    ) -> Running {
        if self.min == self.max {
            return Running {
                workers: self.permits,
                looked: false,
            };
        }
        let span = now.saturating_sub(self.slow_at);
        let looked = span >= SLOW_SPAN;
        if looked {
            // How long each worker's requests took over the span: those
            // that ran a task all along (a worker that completed none
            // took at least the span).
            let mut took = Vec::with_capacity(self.seen.len());
            for (i, (done, busy)) in workers.enumerate() {
                if i == self.seen.len() {
                    self.seen.push(Seen {
                        done,
                        ..Seen::default()
                    });
                }
                let was = &mut self.seen[i];
                let n = done.saturating_sub(was.done);
                took.push((busy && was.busy).then(|| span.as_secs_f64() / n.max(1) as f64));
                (was.done, was.busy) = (done, busy);
            }
            // What the others' requests take: the lower median of those
            // that were not slow (slow ones would raise it, and a worker
            // sent to a slower storage with them would not count).
            let mut fast: Vec<f64> = took
                .iter()
                .zip(&self.seen)
                .filter_map(|(&t, w)| t.filter(|_| !w.slow))
                .collect();
            fast.sort_by(f64::total_cmp);
            // With none of the others at work (they wait for tasks the
            // slow ones hold), nothing says the slow ones got faster.
            if let Some(&median) = fast.get(fast.len().saturating_sub(1) / 2) {
                let had_slow = self.seen.iter().any(|w| w.slow);
                for (w, t) in self.seen.iter_mut().zip(&took) {
                    w.slow = t.is_some_and(|t| t > median * SLOW_TIMES);
                }
                if had_slow && self.median.is_some_and(|m| median > m * SLOW_TIMES) {
                    // The others are now as slow: the walk has left the
                    // fast storage. Dropping to the permits would take
                    // the workers that were in the slow part away from
                    // it, and the ramp would climb back from there.
                    self.joined(now);
                }
                self.median = Some(median);
            }
            self.slow_at = now;
        }
        let (mut run, mut fast, mut slow) = (0, 0, 0);
        while fast < self.permits && run < self.max {
            if self.is_slow(run) && slow < self.permits * SLOW_MOST {
                slow += 1;
            } else {
                fast += 1;
            }
            run += 1;
        }
        self.history.beyond = self.history.beyond.max(slow);
        self.ran = run;
        Running {
            workers: run,
            looked,
        }
    }

    /// Whether worker `i` was slow at the last look (see
    /// [`Controller::running`]).
    pub fn is_slow(&self, i: usize) -> bool {
        self.seen.get(i).is_some_and(|w| w.slow)
    }

    /// One wake-up of the main thread, `now` after the controller started:
    /// `requests` completed so far (a running total), `idle` workers
    /// waiting for work right now, `draining` workers past the permits
    /// still finishing a task; `cpu` reads the CPU times (called at window
    /// boundaries only). Returns the new permit count when it changes.
    pub fn tick(
        &mut self,
        now: Duration,
        requests: u64,
        idle: usize,
        draining: usize,
        cpu: impl FnOnce() -> CpuTimes,
    ) -> Option<usize> {
        if self.min == self.max || now < self.settle_until {
            return None;
        }
        if self.window.is_none() && draining > 0 && now < self.changed + MAX_WINDOW {
            // Fewer workers: those past the count still complete the
            // old count's requests (a piece of a stat batch takes 32 of
            // them), which a window would credit to the new count.
            return None;
        }
        let Some(window) = &mut self.window else {
            self.window = Some(Window {
                start: now,
                requests,
                cpu: cpu(),
                ticks: 0,
                idle: 0,
            });
            return None;
        };
        window.ticks += 1;
        window.idle += idle;
        let wall = now.saturating_sub(window.start);
        let done = requests.saturating_sub(window.requests);
        let (least, requests) = if self.ramping {
            (
                RAMP_WINDOW.max(self.trip.mul_f64(RAMP_TRIPS)),
                RAMP_REQUESTS,
            )
        } else {
            (
                MIN_WINDOW.max(self.trip.mul_f64(WINDOW_TRIPS)),
                MIN_REQUESTS,
            )
        };
        if wall < least || (done < requests && wall < MAX_WINDOW) {
            return None;
        }
        let window = self.window.take().expect("measured above");
        let used = cpu().since(&window.cpu, wall);
        let rate = done as f64 / wall.as_secs_f64();
        let idle = window.idle as f64 / f64::from(window.ticks.max(1));
        if done > 0 {
            let busy = (self.permits as f64 - idle).max(1.0);
            self.trip = Duration::from_secs_f64(busy / rate).min(MAX_WINDOW);
        }
        self.history.windows += 1;
        self.decide(now, rate, idle, used)
    }

    /// A window is over: go on with the probe under way, or start one.
    fn decide(&mut self, now: Duration, rate: f64, idle: f64, used: CpuUse) -> Option<usize> {
        let starved = idle * 4.0 >= self.permits as f64;
        if let Some(probe) = self.probe.take() {
            if starved {
                // Nothing to judge by: back to where the probe started.
                self.rate = Some(probe.before);
                return self.set(now, probe.from, Why::Inconclusive);
            }
            let Some(trial) = probe.trial else {
                // The trial window is over: measure the old count again.
                self.probe = Some(Probe {
                    trial: Some(rate),
                    ..probe
                });
                let back = self.set(now, probe.from, Why::Back);
                // What the trial's extra workers had in flight drains
                // first (at a few milliseconds a request, that is felt).
                self.settle_until = now + SETTLE_BACK.max(self.trip.mul_f64(SETTLE_TRIPS));
                return back;
            };
            let base = self.base.unwrap_or(probe.before);
            if another_storage(rate, probe.before) || another_storage(rate, base) {
                // The storage changed under the probe (the walk reached a
                // cold subtree): no verdict, ramp again from here.
                self.record(now, probe.from, probe.from, Why::Inconclusive);
                return self.restart(now, rate, false, used);
            }
            // Trial against the mean of the windows on either side: a
            // throughput that drifts as the walk moves on cancels out.
            let around = (probe.before + rate) / 2.0;
            self.last = Some((probe.from, rate));
            let up = probe.to > probe.from;
            // More workers must beat the noise too; fewer may lose up to
            // the noise (within DOWN_NOISE): a difference the storage's
            // own noise hides is no reason to keep more workers. A noise
            // of one or two samples may be drift: it raises the bar up,
            // not the tolerance down.
            let gain = if up && self.samples < 3 {
                UP_GAIN.max(NOISE_TIMES * self.noise)
            } else if up {
                PROBE_GAIN.max(NOISE_TIMES * self.noise)
            } else if self.samples < 3 {
                DOWN_GAIN
            } else {
                DOWN_GAIN.min(-self.noise.min(DOWN_NOISE))
            };
            let paid = if up {
                // Trials up from this count that did not pay on their own
                // pool what they gained: a mean over `n` of them beats
                // the noise when it beats the bar over the square root
                // of `n` (a doubling that gains 5% on a storage whose
                // windows move 4% apart is kept at the third).
                let x = (trial / around).ln();
                let (n, sum) = match self.pooled {
                    Some((from, n, sum)) if from == probe.from => (n + 1, sum + x),
                    _ => (1, x),
                };
                self.pooled = Some((probe.from, n, sum));
                sum / f64::from(n) >= (1.0 + gain).ln() / f64::from(n).sqrt()
            } else {
                trial >= around * (1.0 + gain)
            };
            let (way, other) = if up {
                (&mut self.up, &mut self.down)
            } else {
                (&mut self.down, &mut self.up)
            };
            if !paid {
                way.back_off(trial / around);
                self.rate = Some(rate);
                let why = Why::Undone {
                    before: around,
                    after: trial,
                };
                self.record(now, probe.from, probe.from, why);
                return None;
            }
            // Go on the same way at once; the other way waits a little
            // (it was just left).
            self.pooled = None;
            *way = Direction::fresh(0);
            other.wait = other.wait.max(2);
            self.rate = Some(trial);
            self.base = Some(trial);
            let why = Why::Kept {
                before: around,
                after: trial,
            };
            let changed = self.set(now, probe.to, why);
            let next = if up {
                (probe.to * 2).min(self.max)
            } else {
                (probe.to / 2).max(self.min)
            };
            if next != probe.to {
                self.probe = Some(Probe {
                    from: probe.to,
                    to: next,
                    before: trial,
                    trial: None,
                });
                return self.set(now, next, Why::Probe).or(changed);
            }
            return changed;
        }
        if self.ramping {
            return self.ramp(now, rate, starved, used);
        }
        if let Some((permits, last)) = self.last {
            // Not the walk's first windows: it is still spreading out.
            if permits == self.permits && self.history.windows > 3 {
                self.observe_noise(last, rate);
            }
        }
        self.last = Some((self.permits, rate));
        if self
            .base
            .is_some_and(|before| another_storage(rate, before))
        {
            // Another storage (a cold subtree after a cached one, or the
            // other way): ramp again from here.
            return self.restart(now, rate, starved, used);
        }
        self.rate = Some(rate);
        if starved || self.history.windows == 1 {
            // The first window holds the walk's start (workers finding
            // their first tasks): no base to judge a probe by.
            return None;
        }
        self.up.wait = self.up.wait.saturating_sub(1);
        self.down.wait = self.down.wait.saturating_sub(1);
        let can_up = self.permits < self.max && self.up.wait == 0;
        let can_down = self.permits > self.min && self.down.wait == 0;
        let (saturated, own) = load(used);
        if own {
            // The scan itself keeps the CPUs busy: its workers are the
            // CPUs' work, and there is nothing to win either way.
            return None;
        }
        let to = match (saturated, can_up, can_down) {
            (true, _, true) | (false, false, true) => (self.permits / 2).max(self.min),
            (false, true, _) | (true, true, false) => (self.permits * 2).min(self.max),
            (_, false, false) => return None,
        };
        self.probe = Some(Probe {
            from: self.permits,
            to,
            before: rate,
            trial: None,
        });
        self.set(now, to, Why::Probe)
    }

    /// A window of the ramp is over: judge its last step, take the next
    /// one or end the ramp.
    fn ramp(&mut self, now: Duration, rate: f64, starved: bool, used: CpuUse) -> Option<usize> {
        if self.history.windows == 1 {
            // The walk's first window holds its start (workers finding
            // their first tasks, the narrow top of the tree): a doubling
            // judged against it looks paid.
            return None;
        }
        let (saturated, own) = load(used);
        if starved {
            // Idle workers say nothing of the count (the walk is still
            // spreading out): a step is undone and taken again later.
            return match self.step.take() {
                Some((from, before)) if self.ramp_idle < RAMP_IDLE => {
                    self.ramp_idle += 1;
                    self.rate = Some(before);
                    self.set(now, from, Why::Inconclusive)
                }
                Some((from, before)) => self.ramped(now, from, before),
                None => None,
            };
        }
        let step = self.step.take();
        match step {
            // Twice the workers: on while they complete UP_GAIN more and
            // leave CPU unused; kept (and the ramp over) if they complete
            // that much more while the CPUs are busy.
            // Else undone, and in the scan's first ramp, once, half of
            // `from` is tried (a storage that serves fewer requests the
            // more ask). A ramp after a change of storage does not turn:
            // the rate falls while the walk enters a slower part, and a
            // doubling looks lost.
            Some((from, before))
                if from < self.permits && (rate < before * (1.0 + UP_GAIN) || saturated) =>
            {
                if rate >= before * (1.0 + UP_GAIN) {
                    return self.ramped(now, self.permits, rate);
                }
                let half = (from / 2).max(self.min);
                if self.turned.is_some() || self.restarted || self.climbed.is_some() || half == from
                {
                    let ended = self.ramped(now, from, before);
                    // Each way waits as a probe would have after the
                    // ramp's last step that way: this doubling, and the
                    // one that paid before it, seen from above (half the
                    // workers would complete that much less).
                    self.up.back_off(rate / before);
                    if let Some(gain) = self.climbed {
                        self.down.back_off(1.0 / gain);
                    }
                    return ended;
                }
                // Twice the workers completed clearly fewer: the storage
                // is past its best count, and a halving that loses less
                // than the noise may be the way down to it.
                self.turned = Some(if rate < before * (1.0 - DOWN_NOISE) {
                    DOWN_NOISE
                } else {
                    -DOWN_GAIN
                });
                self.step = Some((from, before.max(rate)));
                return self.set(now, half, Why::Ramp { rate });
            }
            // Half the workers: on while the scan still keeps the CPUs
            // busy (or the ramp turned) and half of them complete as much
            // (within the tolerance).
            Some((from, before))
                if from > self.permits
                    && (!(own || self.turned.is_some())
                        || rate < before * (1.0 - self.turned.unwrap_or(-DOWN_GAIN))) =>
            {
                let ended = self.ramped(now, from, before);
                if rate < before {
                    // Like a probe down that lost.
                    self.down.back_off(rate / before);
                }
                return ended;
            }
            // A doubling that paid: half of it is no way down.
            Some((from, before)) if from < self.permits => self.climbed = Some(rate / before),
            _ => {}
        }
        let to = if own || self.turned.is_some() {
            // More workers than the CPUs need, or than the storage
            // serves best.
            let floor = if own { self.floor } else { self.min };
            (self.permits / 2).max(floor)
        } else if saturated {
            // Others hold the CPUs (a local file server): whether fewer
            // workers leave it more is for the probes, which judge each
            // step against both sides.
            self.permits
        } else {
            // The workers wait for the storage.
            (self.permits * 2).min(self.max)
        };
        if to == self.permits {
            return self.ramped(now, to, rate);
        }
        self.step = Some((self.permits, rate));
        self.set(now, to, Why::Ramp { rate })
    }

    /// Another storage: forget the back-off and ramp again from `rate`.
    fn restart(&mut self, now: Duration, rate: f64, starved: bool, used: CpuUse) -> Option<usize> {
        self.forget(Some(rate));
        self.ramp(now, rate, starved, used)
    }

    /// Forget the back-off and the ramp's steps, with `rate` as the rate
    /// the next ones are measured against (none: the next window's).
    fn forget(&mut self, rate: Option<f64>) {
        self.up = Direction::fresh(0);
        self.down = Direction::fresh(0);
        self.ramping = true;
        self.restarted = true;
        self.climbed = None;
        self.pooled = None;
        self.step = None;
        self.turned = None;
        self.ramp_idle = 0;
        self.rate = rate;
        self.base = rate;
    }

    /// The ramp is over at `to`, whose rate is `rate`: the probes take
    /// over after two windows.
    fn ramped(&mut self, now: Duration, to: usize, rate: f64) -> Option<usize> {
        self.ramping = false;
        self.step = None;
        self.turned = None;
        self.pooled = None;
        self.rate = Some(rate);
        self.base = Some(rate);
        self.last = Some((to, rate));
        self.up = Direction::fresh(2);
        self.down = Direction::fresh(2);
        self.set(now, to, Why::Ramped { rate })
    }

    /// The slow storage is now everyone's (see [`Controller::running`]):
    /// the workers that ran become the count, and the ramp starts again
    /// from it, as after any change of storage.
    fn joined(&mut self, now: Duration) {
        let to = self.ran.clamp(self.permits, self.max);
        self.forget(None);
        self.probe = None;
        self.last = None;
        self.set(now, to, Why::Joined);
    }

    /// Two windows at the same count, one after the other: how much the
    /// rate moves by itself.
    fn observe_noise(&mut self, a: f64, b: f64) {
        if a > 0.0 && b > 0.0 {
            // One odd window moves the means only so far.
            let x = (b / a).ln().clamp(-NOISE_CAP, NOISE_CAP);
            if self.samples == 0 {
                // One sample cannot tell noise from drift: noise, to be
                // safe.
                self.noise = x.abs();
                self.drift = x;
            } else {
                let moved = (x - self.drift).abs();
                self.noise += NOISE_WEIGHT * (moved - self.noise);
                self.drift += NOISE_WEIGHT * (x - self.drift);
            }
            self.samples += 1;
        }
    }

    fn set(&mut self, now: Duration, to: usize, why: Why) -> Option<usize> {
        let from = self.permits;
        self.permits = to;
        self.changed = now;
        let settle = if why == Why::Probe {
            SETTLE_PROBE
        } else {
            SETTLE
        };
        self.settle_until = now + settle.max(self.trip.mul_f64(SETTLE_TRIPS));
        self.window = None;
        self.record(now, from, to, why);
        (from != to).then_some(to)
    }

    fn record(&mut self, at: Duration, from: usize, to: usize, why: Why) {
        let h = &mut self.history;
        h.low = h.low.min(to);
        h.high = h.high.max(to);
        h.end = to;
        h.changes.push(Change { at, from, to, why });
    }
}

/// Whether a rate is half or twice `before`, or further: what the walk
/// meets is another storage, not another count.
fn another_storage(rate: f64, before: f64) -> bool {
    !(0.5..=2.0).contains(&(rate / before))
}

/// Whether the machine's CPUs are saturated over a window, and whether by
/// this scan.
fn load(used: CpuUse) -> (bool, bool) {
    let cpus = cpus() as f64;
    let busy = used.machine.unwrap_or(used.process / cpus);
    let saturated = busy >= SATURATED;
    (saturated, saturated && used.process >= OWN * busy * cpus)
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A storage model: `n` workers complete `rate(n)` requests per
    /// second, and keep the machine `busy(n)` busy.
    struct Model {
        rate: fn(f64) -> f64,
        busy: fn(f64) -> f64,
        /// This scan's share of the busy time.
        own: f64,
    }

    /// Run a controller against `model` for `secs` of simulated time, in
    /// 5 ms ticks, with `noise` (a share) on every tick's completions;
    /// returns the requests completed and the controller.
    fn run(model: &Model, start: usize, secs: f64, noise: f64) -> (f64, Controller) {
        run_lagging(model, start, secs, noise, Duration::ZERO)
    }

    /// [`run`], on a storage that serves more workers only `lag` after
    /// they start (its own threads and queues follow the count late),
    /// and fewer at once.
    fn run_lagging(
        model: &Model,
        start: usize,
        secs: f64,
        noise: f64,
        lag: Duration,
    ) -> (f64, Controller) {
        let mut c = Controller::new(Workers::Auto {
            start,
            min: 2,
            max: 256,
        });
        let tick = Duration::from_millis(5);
        let (mut now, mut done, mut busy, mut total) = (Duration::ZERO, 0.0, 0.0, 0.0);
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut counts = std::collections::VecDeque::new();
        while now.as_secs_f64() < secs {
            counts.push_back((now, c.permits()));
            while counts.len() > 1 && counts[1].0 + lag <= now {
                counts.pop_front();
            }
            let n = counts.iter().map(|&(_, n)| n).min().unwrap_or(1) as f64;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let jitter = 1.0 + noise * ((seed % 2001) as f64 / 1000.0 - 1.0);
            done += (model.rate)(n) * tick.as_secs_f64() * jitter;
            busy += (model.busy)(n) * tick.as_secs_f64();
            total += tick.as_secs_f64();
            now += tick;
            let cpus = cpus() as f64;
            let cpu = CpuTimes {
                process: Duration::from_secs_f64(busy * model.own * cpus),
                machine_busy: Some(Duration::from_secs_f64(busy)),
                machine_total: Some(Duration::from_secs_f64(total)),
            };
            c.tick(now, done as u64, 0, 0, || cpu);
        }
        (done, c)
    }

    /// The time-weighted mean permit count over the last half of a run.
    fn settled(c: &Controller, secs: f64) -> f64 {
        let h = c.history();
        let half = Duration::from_secs_f64(secs / 2.0);
        let mut at = half;
        let mut permits = h.start;
        for ch in &h.changes {
            if ch.at <= half {
                permits = ch.to;
            }
        }
        let mut sum = 0.0;
        for ch in h.changes.iter().filter(|ch| ch.at > half) {
            sum += permits as f64 * (ch.at - at).as_secs_f64();
            at = ch.at;
            permits = ch.to;
        }
        sum += permits as f64 * (secs - at.as_secs_f64());
        sum / (secs / 2.0)
    }

    #[test]
    fn a_round_trip_bound_storage_gets_workers_until_the_server_is_full() {
        // 5 ms per request, a server that takes 60 in flight.
        let model = Model {
            rate: |n| n.min(60.0) / 0.005,
            busy: |n| (n * 0.002).min(1.0),
            own: 1.0,
        };
        let (done, c) = run(&model, 16, 5.0, 0.05);
        let best = 60.0 / 0.005 * 5.0;
        assert!(done > 0.9 * best, "{done} of {best}: {:?}", c.history());
        let s = settled(&c, 5.0);
        assert!(
            (48.0..=160.0).contains(&s),
            "settled at {s}: {:?}",
            c.history()
        );
    }

    #[test]
    fn the_ramp_reaches_a_slow_storage_count_early() {
        // 5 ms per request, a server that takes 128 in flight: three
        // doublings from 16.
        let model = Model {
            rate: |n| n.min(128.0) / 0.005,
            busy: |n| (n * 0.001).min(1.0),
            own: 1.0,
        };
        let (_, c) = run(&model, 16, 0.6, 0.05);
        let h = c.history();
        let ramp = h
            .changes
            .iter()
            .filter(|ch| matches!(ch.why, Why::Ramp { .. }))
            .count();
        assert!(ramp >= 3, "{h:?}");
        assert!(c.permits() >= 128, "{h:?}");
        // 256 completes no more than 128: the ramp ends there, without
        // trying 64, which the ramp went through.
        assert!(
            !h.changes
                .iter()
                .any(|ch| ch.to < ch.from && matches!(ch.why, Why::Ramp { .. })),
            "{h:?}"
        );
    }

    #[test]
    fn windows_last_a_few_round_trips_of_a_slow_storage() {
        // 20 ms a request, a server that takes 256 in flight: 16 workers
        // complete 800 requests per second, and a ramp window of 20 ms
        // would hold one round trip.
        let model = Model {
            rate: |n| n.min(256.0) / 0.020,
            busy: |n| (n * 0.001).min(1.0),
            own: 1.0,
        };
        let (_, c) = run(&model, 16, 4.0, 0.05);
        let h = c.history();
        // The first window has no round trip to go by.
        let mut at = h.changes[0].at;
        for ch in &h.changes[1..] {
            // Each step waits out the window before it: ten round trips
            // of 20 ms or more.
            let trips = (ch.at - at).as_secs_f64() / 0.020;
            assert!(trips >= 10.0, "{trips} trips: {h:?}");
            at = ch.at;
        }
        assert!(c.permits() >= 128, "{h:?}");
    }

    #[test]
    fn a_server_that_serves_fewer_the_more_ask_gets_fewer_early() {
        // A FUSE server whose threads contend past 8 requests in flight:
        // 16 workers, the start, complete a fifth less than 4 or 8.
        let model = fuse_server(|n| eight_completes(n, 10000.0));
        turns_down_early(&model, 0.10);
    }

    /// A storage whose best count, 4 to 8 workers completing 10,000
    /// requests a second, is below the start: the ramp turns down and
    /// ends within its first windows, and the trials below the best count
    /// cost a few percent.
    fn turns_down_early(model: &Model, noise: f64) {
        let (done, c) = run(model, 16, 2.5, noise);
        let h = c.history();
        let ramped = first_ramped(h);
        assert!(
            ramped.at <= Duration::from_millis(300) && ramped.to <= 8,
            "{h:?}"
        );
        let best = 10000.0 * 2.5;
        assert!(done > 0.95 * best, "{done} of {best}: {h:?}");
    }

    /// Where the scan's first ramp ended.
    fn first_ramped(h: &History) -> &Change {
        h.changes
            .iter()
            .find(|ch| matches!(ch.why, Why::Ramped { .. }))
            .expect("the ramp ends")
    }

    /// A local FUSE server: it keeps the machine 70% busy, 10% of it the
    /// scan's.
    fn fuse_server(rate: fn(f64) -> f64) -> Model {
        Model {
            rate,
            busy: |_| 0.7,
            own: 0.1,
        }
    }

    /// A server whose 4 workers complete 10,000 requests a second, 8 of
    /// them `eight`, 2 a third less and 16 or more a fifth less.
    fn eight_completes(n: f64, eight: f64) -> f64 {
        match n {
            n if n < 4.0 => 6500.0,
            n if n < 8.0 => 10000.0,
            n if n <= 8.0 => eight,
            _ => 8000.0,
        }
    }

    #[test]
    fn probes_keep_a_doubling_that_gains_less_than_the_ramp_needs() {
        // Eight workers complete 4% more than four: too little for a ramp
        // over short windows or one probe to tell from the noise, enough
        // for the probes' pooled gains. Two complete a third less: the
        // ramp's halving that found it out is not tried again soon.
        let model = fuse_server(|n| eight_completes(n, 10400.0));
        let (_, c) = run(&model, 4, 4.0, 0.02);
        let h = c.history();
        let ramped = first_ramped(h);
        assert_eq!(ramped.to, 4, "{h:?}");
        let soon = h.changes.iter().filter(|ch| {
            ch.why == Why::Probe && ch.to == 2 && ch.at < ramped.at + Duration::from_secs(1)
        });
        assert_eq!(soon.count(), 0, "{h:?}");
        assert!(settled(&c, 4.0) >= 7.0, "{h:?}");
    }

    #[test]
    fn after_a_climb_the_ramp_tried_each_way_waits_as_a_probe_would() {
        // Round trips: each doubling to 64 completes twice as much, 128
        // a tenth less. The ramp ends at 64 having seen both ways; the
        // way down, which lost half, waits longer than the way up.
        let model = Model {
            rate: |n| match n {
                n if n <= 64.0 => n * 150.0,
                _ => 64.0 * 150.0 * 0.9,
            },
            busy: |_| 0.2,
            own: 0.5,
        };
        let (_, c) = run(&model, 16, 3.0, 0.02);
        let h = c.history();
        let mut after = h
            .changes
            .iter()
            .skip_while(|ch| !matches!(ch.why, Why::Ramped { .. }));
        assert_eq!(after.next().map(|ch| ch.to), Some(64), "{h:?}");
        let first = after.find(|ch| ch.why == Why::Probe);
        assert_eq!(first.map(|ch| ch.to), Some(128), "{h:?}");
    }

    #[test]
    fn trials_are_judged_once_the_storage_follows_the_count() {
        // Eight workers complete 7% more than four, but only 30 ms after
        // they start: a trial window from 10 ms on credits a third of its
        // time to the count it left.
        let model = fuse_server(|n| eight_completes(n, 10700.0));
        let (_, c) = run_lagging(&model, 4, 4.0, 0.02, Duration::from_millis(30));
        assert!(settled(&c, 4.0) >= 7.0, "{:?}", c.history());
    }

    #[test]
    fn a_doubling_that_pays_too_little_to_probe_turns_the_ramp() {
        // The same server, whose 16 to 64 workers complete about the same
        // (32 a little more than 16): a doubling that gains less than a
        // probe would need is no reason to stay on the plateau.
        let model = fuse_server(|n| match n {
            n if n < 4.0 => 6500.0,
            n if n <= 8.0 => 10000.0,
            n if n <= 16.0 => 8000.0,
            n if n <= 32.0 => 8500.0,
            _ => 8200.0,
        });
        turns_down_early(&model, 0.0);
    }

    #[test]
    fn a_cpu_bound_scan_keeps_its_workers() {
        // Warm cache: the CPUs are the limit; past 32 workers each one
        // costs a little.
        let model = Model {
            rate: |n| 1e6 * (n / (n + 2.0)) * (1.0 - n / 2000.0),
            busy: |_| 1.0,
            own: 1.0,
        };
        let (done, c) = run(&model, 16, 3.0, 0.03);
        let best = (2..=256)
            .map(|n| (model.rate)(f64::from(n)))
            .fold(0.0, f64::max)
            * 3.0;
        // Within the 1.10x `-j auto` is held to, and not below the start.
        assert!(done * 1.10 > best, "{done} of {best}: {:?}", c.history());
        let s = settled(&c, 3.0);
        assert!(s >= 15.0, "settled at {s}: {:?}", c.history());
    }

    #[test]
    fn a_busy_machine_gets_fewer_workers() {
        // A local server competing for the CPUs: each worker past 4 takes
        // CPU time from it.
        let model = Model {
            rate: |n| 8000.0 * n.min(4.0) / 4.0 / (1.0 + (n - 4.0).max(0.0) / 12.0),
            busy: |_| 1.0,
            own: 0.4,
        };
        let (done, c) = run(&model, 16, 4.0, 0.03);
        let s = settled(&c, 4.0);
        assert!(s <= 8.5, "settled at {s}: {:?}", c.history());
        // Probes cost: each tries a worse count for a window.
        assert!(done > 0.85 * 8000.0 * 4.0, "{done}: {:?}", c.history());
    }

    #[test]
    fn it_follows_a_storage_that_changes() {
        // Fast and CPU-bound for 2 s, then 5 ms round trips.
        let mut c = Controller::new(Workers::Auto {
            start: 16,
            min: 2,
            max: 256,
        });
        let tick = Duration::from_millis(5);
        let (mut now, mut done, mut busy) = (Duration::ZERO, 0.0, 0.0);
        while now < Duration::from_secs(5) {
            let n = c.permits() as f64;
            let slow = now >= Duration::from_secs(2);
            let (rate, b) = if slow {
                (n.min(100.0) / 0.005, 0.2)
            } else {
                (
                    8000.0 * n.min(4.0) / 4.0 / (1.0 + (n - 4.0).max(0.0) / 12.0),
                    1.0,
                )
            };
            done += rate * 0.005;
            busy += b * 0.005;
            now += tick;
            let cpu = CpuTimes {
                process: Duration::from_secs_f64(busy * 0.4 * cpus() as f64),
                machine_busy: Some(Duration::from_secs_f64(busy)),
                machine_total: Some(now),
            };
            c.tick(now, done as u64, 0, 0, || cpu);
            if now == Duration::from_secs(2) {
                assert!(c.permits() <= 8, "{:?}", c.history());
            }
        }
        assert!(c.permits() >= 64, "{:?}", c.history());
    }

    #[test]
    fn a_drifting_throughput_does_not_walk_the_count_away() {
        // The walk gets faster all the time (10% a window: cheaper parts
        // of the tree),
        // and half the workers are 5% slower: a controller comparing
        // only consecutive windows would halve the count again and again.
        let mut c = Controller::new(Workers::Auto {
            start: 16,
            min: 2,
            max: 256,
        });
        let (mut now, mut done, mut busy) = (Duration::ZERO, 0.0, 0.0);
        let mut low = usize::MAX;
        while now < Duration::from_secs(4) {
            let n = c.permits() as f64;
            let drift = (1.5 * now.as_secs_f64()).exp();
            done += 1e5 * drift * (1.0 - 0.05 * (16.0 / n).log2().max(0.0)) * 0.005;
            busy += 0.005;
            now += Duration::from_millis(5);
            let cpu = CpuTimes {
                process: Duration::from_secs_f64(busy * 0.4 * cpus() as f64),
                machine_busy: Some(Duration::from_secs_f64(busy)),
                machine_total: Some(now),
            };
            c.tick(now, done as u64, 0, 0, || cpu);
            low = low.min(c.permits());
        }
        let kept_down = c
            .history()
            .changes
            .iter()
            .filter(|ch| ch.to < ch.from && matches!(ch.why, Why::Kept { .. }))
            .count();
        assert_eq!(kept_down, 0, "{:?}", c.history());
        assert!(low >= 8, "{:?}", c.history());
    }

    #[test]
    fn idle_workers_start_no_probe_and_fixed_counts_never_move() {
        let mut c = Controller::new(Workers::Auto {
            start: 16,
            min: 2,
            max: 256,
        });
        let mut done = 0;
        for i in 1..400u64 {
            done += 50;
            let cpu = CpuTimes::default();
            assert_eq!(
                c.tick(Duration::from_millis(5 * i), done, 8, 0, || cpu),
                None
            );
        }
        assert!(c.history().windows > 10);
        let mut fixed = Controller::new(Workers::Fixed(8));
        for i in 1..400u64 {
            assert_eq!(
                fixed.tick(
                    Duration::from_millis(5 * i),
                    i * 100,
                    0,
                    0,
                    CpuTimes::default
                ),
                None
            );
        }
        assert_eq!(fixed.history().windows, 0);
    }

    #[test]
    fn no_window_opens_while_parked_workers_finish_their_tasks() {
        let mut c = Controller::new(Workers::Auto {
            start: 16,
            min: 2,
            max: 256,
        });
        // The CPUs busy with this scan: the ramp halves the count.
        let cpus = cpus() as f64;
        let cpu = |ms: u64| CpuTimes {
            process: Duration::from_millis(ms).mul_f64(cpus),
            machine_busy: Some(Duration::from_millis(ms)),
            machine_total: Some(Duration::from_millis(ms)),
        };
        let mut ms = 0;
        while c.permits() == 16 {
            ms += 5;
            assert!(ms < 1000, "{:?}", c.history());
            c.tick(Duration::from_millis(ms), ms * 100, 0, 0, || cpu(ms));
        }
        let windows = c.history().windows;
        // Eight workers past the count still run their tasks: no window
        // opens (so none closes) for as long as they do, up to MAX_WINDOW.
        let changed = ms;
        while ms < changed + 300 {
            ms += 5;
            c.tick(Duration::from_millis(ms), ms * 100, 0, 8, || cpu(ms));
        }
        assert_eq!(c.history().windows, windows, "{:?}", c.history());
        while ms < changed + 500 {
            ms += 5;
            c.tick(Duration::from_millis(ms), ms * 100, 0, 8, || cpu(ms));
        }
        assert!(c.history().windows > windows, "{:?}", c.history());
    }

    /// A controller at 4 permits that measured one window of `rate`
    /// requests per second, and the time then.
    fn measured(rate: u64) -> (Controller, Duration) {
        let mut c = Controller::new(Workers::Auto {
            start: 4,
            min: 2,
            max: 256,
        });
        let mut ms = 0;
        while c.history().windows == 0 {
            ms += 5;
            let requests = ms * rate / 1000;
            c.tick(Duration::from_millis(ms), requests, 0, 0, CpuTimes::default);
        }
        assert_eq!(c.permits(), 4);
        (c, Duration::from_millis(ms))
    }

    #[test]
    fn workers_waiting_on_a_slower_storage_do_not_hold_a_permit() {
        // 10,000 requests a second from 4 workers: 0.4 ms a request. One
        // worker completes a request every 5 ms (a subtree behind a round
        // trip), the others one every 0.4 ms.
        let (mut c, mut now) = measured(10_000);
        let mut done = [0u64; 4];
        let mut running = 0;
        for _ in 0..4 {
            now += SLOW_SPAN;
            done[0] += 10;
            for d in &mut done[1..] {
                *d += 125;
            }
            running = c.running(now, done.iter().map(|&d| (d, true))).workers;
        }
        assert_eq!(running, 5, "{:?}", c.seen);
        // Between two looks the slow workers stay as they were.
        let between = c.running(now + SLOW_SPAN / 2, done.iter().map(|&d| (d, false)));
        assert_eq!(
            between,
            Running {
                workers: 5,
                looked: false
            }
        );
        assert!(c.is_slow(0) && !c.is_slow(1), "{:?}", c.seen);
        assert_eq!(c.history().beyond, 1);
        // A worker between tasks, or one that just started, is not slow.
        now += SLOW_SPAN;
        let idle = [(done[0], false), (done[1] + 125, true)];
        assert_eq!(
            c.running(now, idle.into_iter()),
            Running {
                workers: 4,
                looked: true
            }
        );
        // Every worker as slow as the others: the storage is slow, not
        // one part of it (1 request per 5 ms each, 800 a second).
        let (mut c, mut now) = measured(800);
        let mut done = [0u64; 4];
        for _ in 0..4 {
            now += SLOW_SPAN;
            for d in &mut done {
                *d += 10;
            }
            running = c.running(now, done.iter().map(|&d| (d, true))).workers;
        }
        assert_eq!(running, 4, "{:?}", c.seen);
        // A fixed count never moves.
        let mut fixed = Controller::new(Workers::Fixed(4));
        let stuck = [(0, true); 4];
        for ms in 1..10 {
            let now = SLOW_SPAN * ms;
            assert_eq!(fixed.running(now, stuck.into_iter()).workers, 4);
        }
    }

    #[test]
    fn workers_in_a_slow_part_stay_when_it_is_all_that_is_left() {
        // Workers 0-2 in a subtree behind 5 ms, 3-6 on the fast part at
        // 0.4 ms a request: four permits, three more in place of the slow.
        let (mut c, mut now) = measured(10_000);
        let mut done = [0u64; 7];
        let mut span = |c: &mut Controller, slow: usize, busy: &[bool]| {
            now += SLOW_SPAN;
            for (i, d) in done.iter_mut().enumerate() {
                *d += if i < slow { 10 } else { 125 };
            }
            c.running(now, done.iter().zip(busy).map(|(&d, &b)| (d, b)))
                .workers
        };
        let all = [true; 7];
        for _ in 0..4 {
            assert!(span(&mut c, 3, &all) <= 7);
        }
        assert_eq!(span(&mut c, 3, &all), 7, "{:?}", c.seen);
        // The fast part is done and its workers wait for tasks the slow
        // ones hold: nothing says the slow ones got faster.
        let waiting = [true, true, true, false, false, false, false];
        assert_eq!(span(&mut c, 3, &waiting), 7, "{:?}", c.seen);
        assert_eq!(span(&mut c, 3, &all), 7, "{:?}", c.seen);
        // Then they are all in the slow part: the seven that ran are the
        // count, not the four permits.
        for _ in 0..3 {
            assert_eq!(span(&mut c, 7, &all), 7, "{:?}", c.seen);
        }
        assert_eq!(c.permits(), 7);
        let joined = c.history().changes.iter().filter(|x| x.why == Why::Joined);
        assert_eq!(joined.count(), 1, "{:?}", c.history());
    }

    #[test]
    fn workers_fit_the_descriptor_limit() {
        let auto = Workers::Auto {
            start: 16,
            min: 2,
            max: 256,
        };
        assert_eq!(auto.most(), 256);
        assert_eq!(
            auto.capped(10),
            Workers::Auto {
                start: 10,
                min: 2,
                max: 10
            }
        );
        assert_eq!(Workers::Fixed(64).capped(3), Workers::Fixed(3));
        assert!(Workers::auto().adaptive());
        assert!(Workers::auto().start() <= Workers::auto().most());
    }
}

//! `--mpi`: one scan spread over the processes (ranks) of an MPI job,
//! printing exactly what one process prints.
//!
//! ```text
//!  every rank: the threaded walker over the same arguments, one after another
//!  rank 0 starts each argument; the others start idle and ask for work
//!
//!  main thread of each rank, every few ms (crate::spread):
//!    answer REQUESTs: give up to half the tasks queued here (the oldest,
//!                     the shallowest), as chains of names from the argument
//!    take a REPLY:    walk what it holds
//!    one all-gather:  [tasks pending, work messages sent, received, asking,
//!                     entries and blocks counted (--progress: rank 0 shows
//!                     the sum)]
//!                     of every rank: the same numbers everywhere, so every
//!                     rank sees the end of the argument at the same wave
//!    fewer tasks than workers, not asking: REQUEST from a rank with
//!                     tasks to spare
//!
//!  at the end: hard links to the rank that owns (st_dev, st_ino)
//!  (all-to-all), merged there; tables, merged links and counters to
//!  rank 0 (gather), which assembles the tree and prints it
//!  (-o: each rank's directories to rank 0 (gather), its formatted
//!  entries streamed after them, stitched there in listing order)
//! ```
//!
//! * **Tasks cross as paths.** A task handed to another rank is a
//!   directory's chain of names from its argument (each rank opens it
//!   from there, relative to the same working directory), its level and
//!   the visitor's state for it as bytes (du's count: its node; `-o`:
//!   its directory id); a batch of a huge directory's names crosses the same way
//!   and is stat'ed where it lands, so one directory of millions of
//!   entries is shared by every rank.
//! * **Nodes are global.** Rank `r`'s workers number their tables from
//!   `r * (MAX_WORKERS + 1)`: a directory found on one rank and walked on
//!   another is charged to the same node wherever its entries are met.
//! * **The end of an argument.** A wave in which no rank has a task or an
//!   unanswered request and every work message sent was received, twice
//!   in a row with the same counts, means that no task is anywhere: the
//!   four-counter rule, over one collective that every rank joins. No
//!   rank is polled by all the others.
//! * **Hard links** are recorded with every occurrence on the rank that
//!   meets them, sent to the rank that owns their identity, merged there
//!   (its size once, its occurrences together), and sent on to rank 0,
//!   which charges each to its first occurrence in path order, as one
//!   process does.
//! * **Failures.** Each rank reports the entries it could not read, as du
//!   words it; every rank exits with the job's status. A rank that dies
//!   takes the job down (the MPI launcher ends the others): rank 0 prints
//!   only after every rank's part has arrived.
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Count as MpiCount;

use crate::adapt::MAX_WORKERS;
use crate::compare::{Side, SourceKind};
use crate::config::{Config, ExportOptions};
use crate::count::{Count, Parts};
use crate::diag::{self, ExitStatus};
use crate::output::ncdu::{self, Target};
use crate::output::progress::{
    self, Counters, Meter, Mode, Progress, BLOCKS, ENTRIES, SCAN_FIELDS,
};
use crate::scan::{Ran, Report, Scan};
use crate::spread::{Handoff, Link, Names, Port, Spread};
use crate::tree::{NodeId, NodeTable, Occurrences, Totals, Tree};
use crate::visit::Visitor;
use crate::walk::{Args, ScanOptions, ScanOutcome, WorkerStats};
use crate::wire::{Reader, Writer};

/// A rank asks another for work.
const REQUEST: mpi::Tag = 1;
/// The answer: tasks, or none.
const REPLY: mpi::Tag = 2;
/// Bytes MPI may hold for replies not yet delivered (buffered sends: a
/// rank never waits for another to receive).
const SEND_BUFFER: usize = 64 << 20;
/// The most tasks one reply carries.
const GIVE_MOST: usize = 64;
/// A rank's part of an export, on its way to rank 0.
const DATA: mpi::Tag = 3;
/// Bytes of an export's part per message.
const CHUNK: usize = 4 << 20;

/// [`CHUNK`], or the test hook's FDU_TEST_MPI_CHUNK bytes (tests/mpi.rs:
/// a part crosses in many messages).
fn chunk() -> usize {
    std::env::var("FDU_TEST_MPI_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(CHUNK)
}

/// One rank's share in the walk.
struct Ranks {
    rank: usize,
    size: usize,
    state: Mutex<State>,
    /// `--progress`: this rank's counts (its walk's slots, then one that
    /// rank 0 fills with the other ranks' counts), and how many slots are
    /// its walk's.
    progress: Option<(Arc<Counters<SCAN_FIELDS>>, usize)>,
    /// The first rank whose backend did not start, for the last walk.
    first_failed: Mutex<Option<usize>>,
}

/// Numbers each rank gives every wave: tasks pending, replies with tasks
/// sent, received, whether it waits for an answer, entries and blocks
/// counted (`--progress`).
const WAVE: usize = 6;

/// What a rank keeps between exchanges.
#[derive(Default)]
struct State {
    /// Replies with tasks sent, and received.
    sent: u64,
    received: u64,
    /// The rank asked for work and not answered yet.
    asked: Option<usize>,
    /// Tasks taken from other ranks.
    steals: u64,
    /// The counts of the last wave, if it was quiet.
    quiet: Option<(u64, u64)>,
    /// A xorshift state to pick whom to ask.
    seed: u64,
    /// A message that was not what it claimed to be.
    corrupt: bool,
}

impl Ranks {
    fn world() -> SimpleCommunicator {
        SimpleCommunicator::world()
    }

    /// What the exchanges of a walk that is over left: taken, for the
    /// next walk to start from nothing (every rank does it at the same
    /// point, with no message in flight).
    fn settle(&self) -> State {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = State {
            seed: st.seed,
            ..State::default()
        };
        std::mem::replace(&mut *st, fresh)
    }
}

impl Spread for Ranks {
    fn leads(&self) -> bool {
        self.rank == 0
    }

    fn share_claims(&self, mine: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
        let world = Ranks::world();
        let flat: Vec<u64> = mine.iter().flat_map(|&(d, i)| [d, i]).collect();
        let (all, counts) = all_gather_varcount(&world, &flat);
        let mut claims: Vec<((u64, u64), usize)> = Vec::with_capacity(all.len() / 2);
        let mut at = 0;
        for (rank, &c) in counts.iter().enumerate() {
            for pair in all[at..at + c as usize].chunks_exact(2) {
                claims.push(((pair[0], pair[1]), rank));
            }
            at += c as usize;
        }
        claims.sort_unstable();
        // Each rank claims a directory once: the same one twice is two
        // ranks, each of which walked it.
        if let Some(twice) = claims.windows(2).find(|w| w[0].0 == w[1].0) {
            if self.rank == 0 {
                let (dev, ino) = twice[0].0;
                diag::report(&format!(
                    "--mpi: the directory of device {dev}, inode {ino} is met twice in one argument (a bind mount?) and was walked by two ranks; scan it without --mpi"
                ));
            }
            world.barrier();
            std::process::exit(ExitStatus::Partial as i32);
        }
        claims.into_iter().map(|(id, _)| id).collect()
    }

    fn started(&self, here: bool) -> bool {
        // A test hook: FDU_TEST_RANK_NO_BACKEND=R makes rank R's backend
        // fail to start (tests/mpi.rs: every rank stops, none waits).
        let here = here
            && !std::env::var("FDU_TEST_RANK_NO_BACKEND")
                .is_ok_and(|r| r.trim() == self.rank.to_string());
        let first = first_failing(&Ranks::world(), here);
        *self.first_failed.lock().unwrap_or_else(|p| p.into_inner()) = first;
        first.is_none()
    }

    fn exchange(&self, port: &mut dyn Port) -> bool {
        let world = Ranks::world();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(probed) = world.any_process().immediate_matched_probe() {
            let (from, tag) = (probed.1.source_rank() as usize, probed.1.tag());
            let (bytes, _) = probed.matched_receive_vec::<u8>();
            match tag {
                REQUEST => {
                    let most = (port.pending() / 2).clamp(1, GIVE_MOST);
                    let tasks = port.give(most);
                    if !tasks.is_empty() {
                        st.sent += 1;
                    }
                    let reply = encode_tasks(&tasks);
                    world
                        .process_at_rank(from as mpi::Rank)
                        .buffered_send_with_tag(&reply[..], REPLY);
                }
                REPLY => {
                    st.asked = None;
                    match decode_tasks(&bytes) {
                        Some(tasks) if tasks.is_empty() => {}
                        Some(tasks) => {
                            st.received += 1;
                            st.steals += tasks.len() as u64;
                            if !port.take(tasks) {
                                st.corrupt = true;
                            }
                        }
                        None => {
                            // Counted as received all the same, so the
                            // walk still ends; the job fails.
                            st.received += 1;
                            st.corrupt = true;
                        }
                    }
                }
                _ => st.corrupt = true,
            }
        }
        let pending = port.pending();
        let counted = self
            .progress
            .as_ref()
            .map_or([0; SCAN_FIELDS], |(c, own)| c.sum_of(*own));
        let mine = [
            pending as u64,
            st.sent,
            st.received,
            u64::from(st.asked.is_some()),
            counted[ENTRIES],
            counted[BLOCKS],
        ];
        let mut all = vec![0u64; WAVE * self.size];
        all_gather(&world, &mine, &mut all);
        let sum = |k: usize| all.chunks(WAVE).map(|r| r[k]).sum::<u64>();
        let (tasks, sent, received, asking) = (sum(0), sum(1), sum(2), sum(3));
        if let (0, Some((counters, own))) = (self.rank, &self.progress) {
            // What the other ranks counted, in rank 0's display.
            let mut others = [0; SCAN_FIELDS];
            others[ENTRIES] = sum(4) - counted[ENTRIES];
            others[BLOCKS] = sum(5) - counted[BLOCKS];
            counters.put(*own, others);
        }
        if tasks == 0 && asking == 0 && sent == received {
            if st.quiet == Some((sent, received)) {
                st.quiet = None;
                return true;
            }
            st.quiet = Some((sent, received));
        } else {
            st.quiet = None;
        }
        if pending < port.workers() && st.asked.is_none() {
            // Workers here wait, or soon will: ask a rank with tasks to
            // spare, one of those with at least half the most, at random
            // (idle ranks spread over them).
            let most = all.chunks(WAVE).map(|r| r[0]).max().unwrap_or(0);
            let can: Vec<usize> = (0..self.size)
                .filter(|&r| {
                    let theirs = all[WAVE * r];
                    r != self.rank
                        && theirs >= 2
                        && theirs > 2 * pending as u64
                        && theirs * 2 >= most
                })
                .collect();
            if !can.is_empty() {
                st.seed ^= st.seed << 13;
                st.seed ^= st.seed >> 7;
                st.seed ^= st.seed << 17;
                let victim = can[(st.seed % can.len() as u64) as usize];
                world
                    .process_at_rank(victim as mpi::Rank)
                    .buffered_send_with_tag(&[0u8][..], REQUEST);
                st.asked = Some(victim);
            }
        }
        false
    }
}

/// Every rank's `mine`, into `all`: a non-blocking all-gather, waited for
/// in short sleeps (a blocking one spins on a CPU the workers need).
fn all_gather(world: &SimpleCommunicator, mine: &[u64], all: &mut [u64]) {
    mpi::request::scope(|scope| {
        let mut request = world.immediate_all_gather_into(scope, mine, all);
        loop {
            match request.test() {
                Ok(_) => return,
                Err(pending) => request = pending,
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    });
}

/// Whether every rank is `ok`: the first that is not, if any.
fn first_failing(world: &SimpleCommunicator, ok: bool) -> Option<usize> {
    let mut all = vec![0u64; world.size() as usize];
    world.all_gather_into(&u64::from(ok), &mut all[..]);
    all.iter().position(|&ok| ok == 0)
}

/// Every rank's `mine`, in rank order.
fn all_gather_varcount(world: &SimpleCommunicator, mine: &[u64]) -> (Vec<u64>, Vec<MpiCount>) {
    let size = world.size() as usize;
    let len = count(mine.len());
    let mut counts = vec![0 as MpiCount; size];
    world.all_gather_into(&len, &mut counts[..]);
    let displs = displacements(&counts);
    let mut all = vec![0u64; counts.iter().map(|&c| c as usize).sum()];
    {
        let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        world.all_gather_varcount_into(mine, &mut part);
    }
    (all, counts)
}

/// Tasks as bytes.
fn encode_tasks(tasks: &[Handoff]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u64(tasks.len() as u64);
    for t in tasks {
        w.u64(t.depth as u64);
        w.bytes(&t.state);
        w.u64(t.chain.len() as u64);
        for link in &t.chain {
            w.bytes(&link.name);
            w.u64(link.id.0);
            w.u64(link.id.1);
            w.u32(link.hops);
        }
        match &t.names {
            None => w.u8(0),
            Some(names) => {
                w.u8(1);
                w.bytes(&names.bytes);
                w.u32(names.seq);
                w.u32(names.first);
            }
        }
    }
    w.bytes
}

/// Tasks [`encode_tasks`] wrote; `None` for bytes that are not.
fn decode_tasks(bytes: &[u8]) -> Option<Vec<Handoff>> {
    let mut r = Reader::new(bytes);
    let n = r.count(8 * 3 + 1)?;
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let depth = usize::try_from(r.u64()?).ok()?;
        let state = r.bytes()?.to_vec();
        let links = r.count(8 + 8 + 8 + 4)?;
        let mut chain = Vec::with_capacity(links);
        for _ in 0..links {
            let name = r.bytes()?.to_vec();
            let id = (r.u64()?, r.u64()?);
            let hops = r.u32()?;
            chain.push(Link { name, id, hops });
        }
        let names = match r.u8()? {
            0 => None,
            1 => Some(Names {
                bytes: r.bytes()?.to_vec(),
                seq: r.u32()?,
                first: r.u32()?,
            }),
            _ => return None,
        };
        // A directory to walk has a parent; names need their directory.
        if chain.len() < usize::from(names.is_none()) + 1 {
            return None;
        }
        tasks.push(Handoff {
            chain,
            depth,
            state,
            names,
        });
    }
    r.is_empty().then_some(tasks)
}

/// Occurrences of files as bytes: identity, totals, nodes.
fn encode_links(w: &mut Writer, links: &[((u64, u64), Occurrences)]) {
    w.u64(links.len() as u64);
    for (id, occ) in links {
        w.u64(id.0);
        w.u64(id.1);
        occ.totals.write(w);
        w.u64(occ.nodes.len() as u64);
        for node in &occ.nodes {
            w.u64(node.bits());
        }
    }
}

fn decode_links(r: &mut Reader<'_>) -> Option<Vec<((u64, u64), Occurrences)>> {
    let n = r.count(16 + Totals::WIRE + 8)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = (r.u64()?, r.u64()?);
        let totals = Totals::read(r)?;
        let k = r.count(8)?;
        let mut nodes = Vec::with_capacity(k);
        for _ in 0..k {
            nodes.push(NodeId::from_bits(r.u64()?));
        }
        out.push((id, Occurrences { totals, nodes }));
    }
    Some(out)
}

/// The rank that owns a file's identity.
fn owner(id: (u64, u64), size: usize) -> usize {
    let mix = (id.0.rotate_left(29) ^ id.1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((mix >> 32) % size as u64) as usize
}

/// The counters a rank reports: entries, directories, steals, errors,
/// then its summed [`WorkerStats`] syscalls.
fn encode_stats(w: &mut Writer, s: &WorkerStats, steals: u64) {
    for v in [
        s.entries,
        s.dirs,
        steals,
        s.errors,
        s.openat,
        s.getdents,
        s.stat,
        s.uring_enter,
        s.ring_stat,
        s.ring_openat,
        s.ring_close,
    ] {
        w.u64(v);
    }
}

fn decode_stats(r: &mut Reader<'_>) -> Option<WorkerStats> {
    let mut v = [0u64; 11];
    for x in &mut v {
        *x = r.u64()?;
    }
    Some(WorkerStats {
        entries: v[0],
        dirs: v[1],
        steals: v[2],
        errors: v[3],
        openat: v[4],
        getdents: v[5],
        stat: v[6],
        uring_enter: v[7],
        ring_stat: v[8],
        ring_openat: v[9],
        ring_close: v[10],
    })
}

/// Send every rank its bytes (`out[r]` to rank `r`); what each sent this
/// one, in rank order.
fn all_to_all(world: &SimpleCommunicator, out: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let size = out.len();
    let counts: Vec<MpiCount> = out.iter().map(|b| count(b.len())).collect();
    let mut theirs = vec![0 as MpiCount; size];
    world.all_to_all_into(&counts[..], &mut theirs[..]);
    let send: Vec<u8> = out.concat();
    let send_displs = displacements(&counts);
    let recv_displs = displacements(&theirs);
    let total = theirs.iter().map(|&c| c as usize).sum();
    let mut recv = vec![0u8; total];
    {
        let sendp = mpi::datatype::Partition::new(&send[..], &counts[..], &send_displs[..]);
        let mut recvp = PartitionMut::new(&mut recv[..], &theirs[..], &recv_displs[..]);
        world.all_to_all_varcount_into(&sendp, &mut recvp);
    }
    (0..size)
        .map(|r| {
            let at = recv_displs[r] as usize;
            recv[at..at + theirs[r] as usize].to_vec()
        })
        .collect()
}

/// Every rank's bytes, at rank 0 (in rank order); `None` elsewhere.
fn gather(world: &SimpleCommunicator, rank: usize, mine: &[u8]) -> Option<Vec<Vec<u8>>> {
    let root = world.process_at_rank(0);
    let len = count(mine.len());
    if rank != 0 {
        root.gather_into(&len);
        root.gather_varcount_into(mine);
        return None;
    }
    let mut counts = vec![0 as MpiCount; world.size() as usize];
    root.gather_into_root(&len, &mut counts[..]);
    let displs = displacements(&counts);
    let mut all = vec![0u8; counts.iter().map(|&c| c as usize).sum()];
    {
        let mut part = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        root.gather_varcount_into_root(mine, &mut part);
    }
    Some(
        counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
            .collect(),
    )
}

/// A byte count as MPI counts (a part of 2 GiB or more cannot be sent in
/// one message: the job fails rather than send less).
fn count(len: usize) -> MpiCount {
    match MpiCount::try_from(len) {
        Ok(n) => n,
        Err(_) => {
            diag::report(&format!(
                "--mpi: a rank's part of the result is {len} bytes, more than one MPI message holds"
            ));
            Ranks::world().abort(1)
        }
    }
}

fn displacements(counts: &[MpiCount]) -> Vec<MpiCount> {
    counts
        .iter()
        .scan(0 as MpiCount, |at, &c| {
            let here = *at;
            *at += c;
            Some(here)
        })
        .collect()
}

/// Run `config`'s scan as one rank of an MPI job (started by `mpirun` or
/// `srun`); rank 0 prints. Returns the job's exit status, the same on
/// every rank.
pub fn run(config: &Config, started: Instant) -> ExitStatus {
    let Some((mut universe, _)) = mpi::initialize_with_threading(mpi::Threading::Funneled) else {
        diag::report("--mpi: MPI was already initialized");
        return ExitStatus::Usage;
    };
    universe.set_buffer_size(SEND_BUFFER);
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    let ranks = Ranks {
        rank,
        size,
        state: Mutex::new(State {
            seed: 0x9E37_79B9_7F4A_7C15 ^ (rank as u64 + 1),
            ..State::default()
        }),
        progress: None,
        first_failed: Mutex::new(None),
    };
    let status = job(&world, ranks, config, started);
    // Every rank exits with the job's status.
    let mut code = status as i32;
    world.process_at_rank(0).broadcast_into(&mut code);
    match code {
        0 => ExitStatus::Ok,
        1 => ExitStatus::Partial,
        _ => ExitStatus::Usage,
    }
}

/// The job on this rank: its operands, then the scan and its output.
fn job(
    world: &SimpleCommunicator,
    mut ranks: Ranks,
    config: &Config,
    started: Instant,
) -> ExitStatus {
    // Node and directory ids number every rank's workers apart.
    if ranks.size * (MAX_WORKERS + 1) > NodeId::TABLES {
        if ranks.rank == 0 {
            diag::report(&format!(
                "--mpi: at most {} ranks, not {}",
                NodeId::TABLES / (MAX_WORKERS + 1),
                ranks.size
            ));
        }
        return ExitStatus::Usage;
    }
    let listed;
    let mut list_status = ExitStatus::Ok;
    let config = match &config.files0_from {
        None => config,
        Some(from) => {
            let Some((paths, failed)) = files0(world, ranks.rank, from) else {
                return ExitStatus::Partial;
            };
            if failed {
                list_status = ExitStatus::Partial;
            }
            listed = Config {
                paths,
                files0_from: None,
                ..config.clone()
            };
            &listed
        }
    };
    // Progress as rank 0 shows it (its stderr): if at all, every rank
    // counts, and the waves bring the counts to rank 0.
    let mode = match ranks.rank {
        0 => Mode::for_config(config),
        _ => Mode::Off,
    };
    let mut shown = u8::from(mode != Mode::Off);
    world.process_at_rank(0).broadcast_into(&mut shown);
    let meter = Meter::start(mode);
    if shown != 0 {
        let own = Scan::from_config(config).scan_options().workers.most() + 1;
        let counters = Arc::new(Counters::new(own + 1).slowed(progress::test_delay()));
        meter.watch(counters.clone());
        ranks.progress = Some((counters, own));
    }
    let status = match (&config.export, &config.compare) {
        (Some(export), _) => export_job(world, &ranks, config, export, &meter, started),
        (None, Some(old)) => compare_job(world, &ranks, config, old, &meter),
        (None, None) => count_job(world, &ranks, config, &meter, started),
    };
    status.max(list_status)
}

/// `--files0-from`: rank 0 reads the names (standard input reaches it
/// alone) and says what is wrong with them; every rank gets them. `None`
/// where the file could not be read.
fn files0(world: &SimpleCommunicator, rank: usize, from: &[u8]) -> Option<(Vec<Vec<u8>>, bool)> {
    let mut w = Writer::new();
    if rank == 0 {
        match crate::files0::read(from) {
            None => w.u8(0),
            Some((paths, failed)) => {
                w.u8(1);
                w.u8(u8::from(failed));
                w.u64(paths.len() as u64);
                for p in &paths {
                    w.bytes(p);
                }
            }
        }
    }
    let bytes = broadcast(world, rank, w.bytes);
    let mut r = Reader::new(&bytes);
    if r.u8()? == 0 {
        return None;
    }
    let failed = r.u8()? != 0;
    let n = r.count(8)?;
    let mut paths = Vec::with_capacity(n);
    for _ in 0..n {
        paths.push(r.bytes()?.to_vec());
    }
    Some((paths, failed))
}

/// Rank 0's bytes, on every rank.
fn broadcast(world: &SimpleCommunicator, rank: usize, mine: Vec<u8>) -> Vec<u8> {
    let root = world.process_at_rank(0);
    let mut len = count(mine.len());
    root.broadcast_into(&mut len);
    let mut bytes = if rank == 0 {
        mine
    } else {
        vec![0u8; usize::try_from(len).unwrap_or(0)]
    };
    root.broadcast_into(&mut bytes[..]);
    bytes
}

/// This rank's walk with the visitor `make` builds (counted for
/// `--progress`); the status to exit with
/// (said once) if the scan cannot run. A test hook: FDU_TEST_RANK_EXIT=R
/// makes rank R die after its walk, before its part reaches rank 0
/// (tests/mpi.rs: the job fails, and nothing is printed).
fn walk_here<'a, V: Visitor>(
    ranks: &'a Ranks,
    scan: &'a Scan,
    make: impl FnOnce(&'a ScanOptions, &Args) -> V,
) -> Result<Ran<V::Output>, ExitStatus> {
    let ran = match &ranks.progress {
        Some((counters, _)) => scan.run_shared(
            |opts, args| Progress::new(make(opts, args), counters.clone()),
            ranks,
        ),
        None => scan.run_shared(make, ranks),
    };
    let ran = match ran {
        Ok(ran) => ran,
        Err(failed) => {
            // Said once: by the first rank that could not start (often
            // all of them, with the same options).
            let first = *ranks.first_failed.lock().unwrap_or_else(|p| p.into_inner());
            if first == Some(ranks.rank) {
                crate::scan::report_failure(failed.clone());
            }
            return Err(match failed {
                crate::scan::ScanFailed::Unavailable(_) => ExitStatus::Usage,
                crate::scan::ScanFailed::CannotStart(_) => ExitStatus::Partial,
            });
        }
    };
    if std::env::var("FDU_TEST_RANK_EXIT").is_ok_and(|r| r.trim() == ranks.rank.to_string()) {
        std::process::exit(3);
    }
    Ok(ran)
}

/// What every rank sends rank 0 ahead of its result: whether a message it
/// took was corrupt, its counters and its workers'.
fn write_counters(w: &mut Writer, corrupt: bool, outcome: &ScanOutcome, steals: u64) {
    w.u8(u8::from(corrupt));
    encode_stats(w, &outcome.sum, steals);
    w.u64(outcome.workers.len() as u64);
    for worker in &outcome.workers {
        encode_stats(w, worker, worker.steals);
    }
}

/// The ranks' counters, as rank 0 reads them off their parts.
#[derive(Default)]
struct RankStats {
    per_rank: PerRank,
    workers: Vec<WorkerStats>,
    sum: WorkerStats,
}

impl RankStats {
    /// Read rank `r`'s counters off its part; the rest of the part, or
    /// `None` (said) for a part that is not a scan's.
    fn read<'b>(&mut self, r: usize, part: &'b [u8]) -> Option<Reader<'b>> {
        let mut rd = Reader::new(part);
        let decoded = (|| {
            let corrupt = rd.u8()? != 0;
            let stats = decode_stats(&mut rd)?;
            let threads = rd.count(8 * 11)?;
            let mut ws = Vec::with_capacity(threads);
            for _ in 0..threads {
                ws.push(decode_stats(&mut rd)?);
            }
            (!corrupt).then_some((stats, ws))
        })();
        let Some((stats, ws)) = decoded else {
            corrupt_part(r);
            return None;
        };
        self.sum.add(&stats);
        self.per_rank.push((stats, ws.len()));
        self.workers.extend(ws);
        Some(rd)
    }
}

fn corrupt_part(r: usize) {
    diag::report(&format!(
        "--mpi: the part of rank {r} is not a scan's: the job's result is incomplete"
    ));
}

/// Each rank's summed counters and its thread count, in rank order.
type PerRank = Vec<(WorkerStats, usize)>;

/// du's count over the ranks, printed by rank 0.
fn count_job(
    world: &SimpleCommunicator,
    ranks: &Ranks,
    config: &Config,
    meter: &Meter,
    started: Instant,
) -> ExitStatus {
    let counted = count_here(world, ranks, config, meter);
    meter.finish();
    let (report, per_rank) = match counted {
        Ok(Some(counted)) => counted,
        Ok(None) => return ExitStatus::Ok,
        Err(status) => return status,
    };
    let failed = crate::output::print(
        config,
        &report,
        started.elapsed(),
        crate::output::Stdout::new(),
    );
    if config.stats {
        crate::output::stats::print_ranks(
            config,
            (report.ran, report.ring.as_deref()),
            &per_rank,
            &report.outcome.sum,
            started.elapsed(),
        );
    }
    if report.outcome.errors > 0 || failed {
        ExitStatus::Partial
    } else {
        ExitStatus::Ok
    }
}

/// du's count over the ranks: hard links merged by their owners, tables
/// to rank 0, which assembles the tree. Rank 0 gets the report and each
/// rank's counters and thread count, the others `None`; `Err`, the
/// status to exit with, when the scan could not run or a part was not
/// a scan's (said).
fn count_here(
    world: &SimpleCommunicator,
    ranks: &Ranks,
    config: &Config,
    meter: &Meter,
) -> Result<Option<(Report, PerRank)>, ExitStatus> {
    let (rank, size) = (ranks.rank, ranks.size);
    let scan = Scan::from_config(config).errors(meter.errors());
    let base = rank * (MAX_WORKERS + 1);
    let ran = walk_here(ranks, &scan, |opts, args| {
        Parts(Count::numbered_from(opts, args, base))
    })?;
    let state = ranks.settle();
    let (tables, links) = ran.result;

    // Hard links to their owners, merged there.
    let mut out = vec![Writer::new(); size];
    let mut by_owner: Vec<Vec<((u64, u64), Occurrences)>> = (0..size).map(|_| Vec::new()).collect();
    for (id, occ) in links {
        by_owner[owner(id, size)].push((id, occ));
    }
    for (w, part) in out.iter_mut().zip(&by_owner) {
        encode_links(w, part);
    }
    drop(by_owner);
    let received = all_to_all(world, out.into_iter().map(|w| w.bytes).collect());
    let mut corrupt = state.corrupt;
    let mut owned: crate::ids::IdMap<(u64, u64), Occurrences> = Default::default();
    for bytes in &received {
        let mut r = Reader::new(bytes);
        match decode_links(&mut r) {
            Some(part) if r.is_empty() => {
                for (id, occ) in part {
                    match owned.get_mut(&id) {
                        Some(mine) => mine.nodes.extend(occ.nodes),
                        None => {
                            owned.insert(id, occ);
                        }
                    }
                }
            }
            _ => corrupt = true,
        }
    }
    drop(received);

    // Tables, merged links and counters to rank 0.
    let mut w = Writer::new();
    write_counters(&mut w, corrupt, &ran.outcome, state.steals);
    w.u64(tables.len() as u64);
    for t in &tables {
        t.write(&mut w);
    }
    drop(tables);
    let merged: Vec<((u64, u64), Occurrences)> = owned.into_iter().collect();
    encode_links(&mut w, &merged);
    drop(merged);
    let Some(parts) = gather(world, rank, &w.bytes) else {
        return Ok(None);
    };
    drop(w);

    // Rank 0: assemble every rank's part.
    let mut counters = RankStats::default();
    let mut tables: Vec<NodeTable> = Vec::new();
    let mut links: Vec<Occurrences> = Vec::new();
    for (r, bytes) in parts.iter().enumerate() {
        let mut rd = counters.read(r, bytes).ok_or(ExitStatus::Partial)?;
        let decoded = (|| {
            let n = rd.count(16)?;
            let mut ts = Vec::with_capacity(n);
            for _ in 0..n {
                ts.push(NodeTable::read(&mut rd)?);
            }
            let ls = decode_links(&mut rd)?;
            rd.is_empty().then_some((ts, ls))
        })();
        let Some((ts, ls)) = decoded else {
            corrupt_part(r);
            return Err(ExitStatus::Partial);
        };
        tables.extend(ts);
        links.extend(ls.into_iter().map(|(_, occ)| occ));
    }
    drop(parts);
    tables.sort_by_key(NodeTable::id);
    let tree = Tree::assemble(tables, links, config.scan.separate_dirs);
    let RankStats {
        per_rank,
        workers,
        sum,
    } = counters;
    let report = Report {
        tree,
        outcome: ScanOutcome {
            errors: sum.errors,
            workers,
            sum,
            concurrency: None,
        },
        ran: ran.ran,
        ring: ran.ring,
    };
    Ok(Some((report, per_rank)))
}

/// `--compare OLD NEW`: each side that is a directory is counted by every
/// rank in turn (rank 0 looks which are; an export, or standard input, is
/// read by rank 0 alone), and rank 0 prints the changes.
fn compare_job(
    world: &SimpleCommunicator,
    ranks: &Ranks,
    config: &Config,
    old: &[u8],
    meter: &Meter,
) -> ExitStatus {
    let new = config.paths.first().map_or(&b"."[..], Vec::as_slice);
    let mut scanned = [0u8; 2];
    if ranks.rank == 0 {
        for (s, side) in scanned.iter_mut().zip([old, new]) {
            *s = u8::from(crate::compare::scanned(side));
        }
    }
    world.process_at_rank(0).broadcast_into(&mut scanned[..]);
    let sides = [(scanned[0], old), (scanned[1], new)].map(|(scan, source)| {
        if scan != 0 {
            let one = Config {
                paths: vec![source.to_vec()],
                ..config.clone()
            };
            count_here(world, ranks, &one, meter).map(|counted| {
                counted.map(|(report, _)| Side {
                    source: source.to_vec(),
                    kind: SourceKind::Scan,
                    report,
                })
            })
        } else if ranks.rank == 0 {
            crate::compare::read(config, source, meter).map(Some)
        } else {
            Ok(None)
        }
    });
    meter.finish();
    // Rank 0 has both sides (or why not); the others have none to print.
    match sides {
        [Ok(None), _] | [_, Ok(None)] => ExitStatus::Ok,
        [old, new] => {
            let some = |side: Result<Option<Side>, ExitStatus>| {
                side.and_then(|s| s.ok_or(ExitStatus::Partial))
            };
            crate::output::compare::conclude(config, some(old), some(new))
        }
    }
}

/// `-o`: every rank exports what it walked; rank 0 takes in the other
/// ranks' parts (their directories at once, their formatted entries as a
/// stream of messages, kept in its spill file) and writes the export.
fn export_job(
    world: &SimpleCommunicator,
    ranks: &Ranks,
    config: &Config,
    export: &ExportOptions,
    meter: &Meter,
    started: Instant,
) -> ExitStatus {
    let rank = ranks.rank;
    // Rank 0 makes FILE's temporary file, every rank its spill file (rank
    // 0 beside FILE, the others in their temporary directory): all of
    // them, or the job stops here.
    let target = match rank {
        0 => Target::prepare(export).ok(),
        _ => None,
    };
    let visitor = match &target {
        Some(target) => ncdu::spill_in(export.extended, target.spill_dir()),
        None if rank != 0 => ncdu::spill_in(export.extended, &std::env::temp_dir()),
        None => None,
    };
    let failed = first_failing(world, visitor.is_some());
    let (Some(visitor), None) = (visitor, failed) else {
        return ExitStatus::Partial;
    };
    let scan = Scan::from_config(config).errors(meter.errors());
    let base = rank * (MAX_WORKERS + 1);
    let ran = walk_here(ranks, &scan, |_, _| visitor.numbered_from(base));
    meter.finish();
    let ran = match ran {
        Ok(ran) => ran,
        Err(status) => return status,
    };
    let state = ranks.settle();
    let mut stitch = ran.result;
    let mut w = Writer::new();
    write_counters(&mut w, state.corrupt, &ran.outcome, state.steals);
    stitch.describe(&mut w);
    let Some(parts) = gather(world, rank, &w.bytes) else {
        let mut out = ToRank {
            world,
            buf: Vec::new(),
            chunk: chunk(),
        };
        if let Err(e) = stitch.send_data(&mut out) {
            diag::report(&format!(
                "--mpi: cannot read this rank's part of the export back: {}",
                fdu_platform::Errno::from_io(&e)
            ));
        }
        out.finish();
        return ExitStatus::Ok;
    };
    drop(w);

    // Rank 0: every part is read to its end, even after one that is not
    // an export's, so that no rank waits to send.
    let mut counters = RankStats::default();
    let mut whole = true;
    for (r, bytes) in parts.iter().enumerate() {
        let rest = counters.read(r, bytes);
        if r == 0 {
            whole &= rest.is_some();
            continue;
        }
        let mut data = FromRank {
            world,
            from: r,
            buf: Vec::new(),
            at: 0,
            ended: false,
        };
        let taken = match rest {
            Some(rest) if whole => match stitch.absorb(rest.rest(), &mut data) {
                Ok(()) => true,
                Err(_) => {
                    corrupt_part(r);
                    false
                }
            },
            _ => false,
        };
        whole &= taken;
        if !data.ended {
            // Drained: reading from a rank's messages cannot fail.
            let _ = io::copy(&mut data, &mut io::sink());
        }
    }
    drop(parts);
    if !whole {
        return ExitStatus::Partial;
    }
    let Some(target) = target else {
        return ExitStatus::Partial;
    };
    let status = target.deliver(config, stitch, counters.sum.errors);
    if config.stats {
        crate::output::stats::print_ranks(
            config,
            (ran.ran, ran.ring.as_deref()),
            &counters.per_rank,
            &counters.sum,
            started.elapsed(),
        );
    }
    status
}

/// Bytes to rank 0, in messages of up to `chunk` bytes ([`CHUNK`]),
/// ended by an empty one.
struct ToRank<'w> {
    world: &'w SimpleCommunicator,
    buf: Vec<u8>,
    chunk: usize,
}

impl ToRank<'_> {
    fn send(&mut self) {
        if !self.buf.is_empty() {
            self.world
                .process_at_rank(0)
                .send_with_tag(&self.buf[..], DATA);
            self.buf.clear();
        }
    }

    /// Send what is held, then the end.
    fn finish(mut self) {
        self.send();
        self.world
            .process_at_rank(0)
            .send_with_tag(&[0u8; 0][..], DATA);
    }
}

impl Write for ToRank<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = bytes.len().min(self.chunk - self.buf.len());
        self.buf.extend_from_slice(&bytes[..n]);
        if self.buf.len() == self.chunk {
            self.send();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes a rank sends through [`ToRank`], read to their end.
struct FromRank<'w> {
    world: &'w SimpleCommunicator,
    from: usize,
    buf: Vec<u8>,
    at: usize,
    ended: bool,
}

impl Read for FromRank<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.buf.len() {
            if self.ended {
                return Ok(0);
            }
            let (bytes, _) = self
                .world
                .process_at_rank(self.from as mpi::Rank)
                .receive_vec_with_tag::<u8>(DATA);
            self.ended = bytes.is_empty();
            self.buf = bytes;
            self.at = 0;
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_links_cross_as_bytes_and_bad_bytes_are_refused() {
        let tasks = vec![
            Handoff {
                chain: vec![
                    Link {
                        name: b"arg".to_vec(),
                        id: (1, 2),
                        hops: 0,
                    },
                    Link {
                        name: b"d\xff".to_vec(),
                        id: (1, 3),
                        hops: 0,
                    },
                ],
                depth: 1,
                state: NodeId::new(1025, 7).bits().to_le_bytes().to_vec(),
                names: None,
            },
            Handoff {
                chain: vec![Link {
                    name: b"arg".to_vec(),
                    id: (1, 2),
                    hops: 0,
                }],
                depth: 0,
                state: vec![1, 2, 3],
                names: Some(Names {
                    bytes: b"a\0b\0".to_vec(),
                    seq: 512,
                    first: 0,
                }),
            },
        ];
        let bytes = encode_tasks(&tasks);
        assert_eq!(decode_tasks(&bytes), Some(tasks));
        for end in 0..bytes.len() {
            assert_eq!(decode_tasks(&bytes[..end]), None, "cut at {end}");
        }
        assert_eq!(decode_tasks(&encode_tasks(&[])), Some(Vec::new()));

        let links = vec![(
            (5, 6),
            Occurrences {
                totals: Totals::default(),
                nodes: vec![NodeId::new(3, 4), NodeId::new(2050, 1)],
            },
        )];
        let mut w = Writer::new();
        encode_links(&mut w, &links);
        let back = decode_links(&mut Reader::new(&w.bytes)).unwrap();
        assert_eq!(back[0].0, (5, 6));
        assert_eq!(back[0].1.nodes, links[0].1.nodes);
        assert!(owner((5, 6), 4) < 4);
    }
}

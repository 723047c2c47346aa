//! Worker placement on NUMA nodes and CPUs (`--pin none|cpu|numa|auto`).
//!
//! Pinning is split into three steps, only the last of which makes a syscall:
//!
//! 1. [`Topology::read`] builds the machine's usable NUMA layout from sysfs
//!    (`devices/system/node/node<N>/cpulist`, filtered by
//!    `devices/system/cpu/online`) and the process's affinity mask
//!    ([`allowed_cpus`]), so a worker is never pinned outside a cgroup
//!    cpuset. Reading is tolerant: a missing or malformed file degrades the
//!    topology (ultimately to one node holding every allowed CPU), it is
//!    never an error.
//! 2. [`plan`] turns a topology, a [`PinMode`] and a worker count into one
//!    [`Placement`] per worker, and [`steal_order`] gives each worker the
//!    order in which to visit the others' queues (same node first). Both are
//!    pure functions.
//! 3. Each worker calls [`pin_current_thread`] with its placement's CPUs as
//!    its first action (`sched_setaffinity` on the calling thread).
//!
//! | mode | placement of worker `i` (with `n` nodes) |
//! |---|---|
//! | `none` | node 0, not pinned |
//! | `numa` | node `i % n`, pinned to all CPUs of that node |
//! | `cpu` | node `i % n`, pinned to one CPU of that node, cycling through them |
//!
//! `auto` ([`PinChoice::resolve`]) is `numa` on a machine with more than one
//! node that has usable CPUs, and `none` otherwise.
//!
//! On platforms other than Linux the allowed CPUs are unknown (empty) and
//! pinning is a no-op.

use crate::Errno;
use std::fs;
use std::path::Path;

/// The largest CPU id accepted from a cpulist; bigger ids mark the list as
/// malformed (and keep a corrupt range from allocating without bound).
const MAX_CPU_ID: usize = 1 << 16;

/// How workers are placed: the result of resolving a [`PinChoice`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PinMode {
    /// Workers are not pinned; the scheduler places them.
    None,
    /// Each worker is pinned to one CPU, workers spread across nodes.
    Cpu,
    /// Each worker is pinned to all CPUs of one node, workers spread across
    /// nodes.
    Numa,
}

impl PinMode {
    /// The mode's `--pin` name.
    pub fn name(self) -> &'static str {
        match self {
            PinMode::None => "none",
            PinMode::Cpu => "cpu",
            PinMode::Numa => "numa",
        }
    }
}

/// The `--pin` value as given on the command line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PinChoice {
    /// [`PinMode::Numa`] when the machine has more than one usable node,
    /// [`PinMode::None`] otherwise.
    Auto,
    /// [`PinMode::None`].
    None,
    /// [`PinMode::Cpu`].
    Cpu,
    /// [`PinMode::Numa`].
    Numa,
}

impl PinChoice {
    /// Parse a `--pin` value (`auto`, `none`, `cpu` or `numa`).
    pub fn parse(text: &str) -> Option<PinChoice> {
        match text {
            "auto" => Some(PinChoice::Auto),
            "none" => Some(PinChoice::None),
            "cpu" => Some(PinChoice::Cpu),
            "numa" => Some(PinChoice::Numa),
            _ => None,
        }
    }

    /// The mode to run on `topology`: the one place where the choice is made.
    ///
    /// Explicit modes are kept as given; `Auto` is [`PinMode::Numa`] when the
    /// topology has more than one node (nodes without usable CPUs are not
    /// part of a [`Topology`]), and [`PinMode::None`] otherwise.
    pub fn resolve(self, topology: &Topology) -> PinMode {
        match self {
            PinChoice::Auto if topology.node_count() > 1 => PinMode::Numa,
            PinChoice::Auto | PinChoice::None => PinMode::None,
            PinChoice::Cpu => PinMode::Cpu,
            PinChoice::Numa => PinMode::Numa,
        }
    }
}

/// One NUMA node and the CPUs of it this process may run on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Node {
    /// The kernel's node number (`N` in `node<N>`).
    pub id: usize,
    /// Usable CPU ids: online and in the affinity mask, sorted, no duplicates.
    pub cpus: Vec<usize>,
}

/// The usable NUMA layout: the nodes that have at least one usable CPU,
/// sorted by id.
///
/// A topology always has at least one node. Only when neither sysfs nor the
/// affinity mask tells anything is that node's CPU list empty, which
/// [`plan`] turns into unpinned placements.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Topology {
    nodes: Vec<Node>,
}

impl Topology {
    /// Read the topology under `sysfs_root` (normally `/sys`), restricted to
    /// the CPUs in `allowed` (the affinity mask, see [`allowed_cpus`]; empty
    /// means unknown and restricts nothing).
    ///
    /// Every `devices/system/node/node<N>/cpulist` is read; CPUs missing from
    /// `devices/system/cpu/online` (when that file exists) or from `allowed`
    /// are dropped, and so are nodes left without CPUs or whose cpulist is
    /// unreadable or malformed. When no node remains (no NUMA directory, as
    /// in some containers), the topology is node 0 holding the allowed CPUs,
    /// or the online ones if `allowed` is empty.
    ///
    /// Never fails and never panics.
    pub fn read(sysfs_root: &Path, allowed: &[usize]) -> Topology {
        let online = fs::read_to_string(sysfs_root.join("devices/system/cpu/online"))
            .ok()
            .and_then(|text| parse_cpu_list(&text));
        let mut allowed = allowed.to_vec();
        allowed.sort_unstable();
        allowed.dedup();
        let usable = |cpu: &usize| {
            online
                .as_ref()
                .map_or(true, |on| on.binary_search(cpu).is_ok())
                && (allowed.is_empty() || allowed.binary_search(cpu).is_ok())
        };

        let mut nodes = Vec::new();
        if let Ok(entries) = fs::read_dir(sysfs_root.join("devices/system/node")) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(id) = name.to_str().and_then(node_id) else {
                    continue;
                };
                let Ok(text) = fs::read_to_string(entry.path().join("cpulist")) else {
                    continue;
                };
                let Some(mut cpus) = parse_cpu_list(&text) else {
                    continue;
                };
                cpus.retain(usable);
                if !cpus.is_empty() {
                    nodes.push(Node { id, cpus });
                }
            }
        }
        if nodes.is_empty() {
            let cpus: Vec<usize> = if allowed.is_empty() {
                online.unwrap_or_default()
            } else {
                let both: Vec<usize> = allowed.iter().copied().filter(usable).collect();
                if both.is_empty() {
                    allowed
                } else {
                    both
                }
            };
            nodes.push(Node { id: 0, cpus });
        }
        Topology::from_nodes(nodes)
    }

    /// A topology made of `nodes`, normalized as [`Topology::read`] does:
    /// CPU lists sorted and deduplicated, nodes without CPUs dropped, nodes
    /// sorted by id; a single CPU-less node 0 if nothing remains.
    pub fn from_nodes(nodes: Vec<Node>) -> Topology {
        let mut nodes: Vec<Node> = nodes
            .into_iter()
            .map(|mut node| {
                node.cpus.sort_unstable();
                node.cpus.dedup();
                node
            })
            .filter(|node| !node.cpus.is_empty())
            .collect();
        nodes.sort_by_key(|node| node.id);
        if nodes.is_empty() {
            nodes.push(Node {
                id: 0,
                cpus: Vec::new(),
            });
        }
        Topology { nodes }
    }

    /// The nodes, sorted by id. [`Placement::node`] indexes this slice.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The number of nodes (at least 1).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The number of usable CPUs over all nodes.
    pub fn cpu_count(&self) -> usize {
        self.nodes.iter().map(|node| node.cpus.len()).sum()
    }
}

/// The node number of a `node<N>` directory name.
fn node_id(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("node")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parse a kernel CPU list such as `0-3,8-11` or `5` into sorted,
/// deduplicated CPU ids.
///
/// Surrounding whitespace (the trailing newline of a sysfs file) is ignored,
/// and an empty list (a node without CPUs) is `Some` of an empty vector.
/// Anything malformed (a reversed range, a non-number, an id above 65535) is
/// `None`.
pub fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let text = text.trim();
    let mut cpus = Vec::new();
    if text.is_empty() {
        return Some(cpus);
    }
    for part in text.split(',') {
        let part = part.trim();
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (cpu_id(a)?, cpu_id(b)?),
            None => {
                let cpu = cpu_id(part)?;
                (cpu, cpu)
            }
        };
        if first > last {
            return None;
        }
        cpus.extend(first..=last);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Some(cpus)
}

/// One CPU id of a CPU list: decimal digits only, at most [`MAX_CPU_ID`].
fn cpu_id(text: &str) -> Option<usize> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&cpu| cpu <= MAX_CPU_ID)
}

/// Where one worker runs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Placement {
    /// Index of the worker's node in [`Topology::nodes`] (not the kernel's
    /// node id, which is [`Node::id`] of that entry).
    pub node: usize,
    /// The CPUs to pin the worker to; empty means do not pin.
    pub cpus: Vec<usize>,
}

/// One placement per worker (`workers` of them) for `mode` on `topology`.
///
/// Workers are spread over the nodes in proportion to their usable CPUs:
/// each goes to the node with the fewest workers per CPU so far (the first
/// such node on a tie), which is plain round robin when nodes are alike, and
/// keeps a node that a cpuset left with one CPU from getting as many workers
/// as one with seven.
///
/// - [`PinMode::None`]: every worker on node index 0, not pinned.
/// - [`PinMode::Numa`]: pinned to all CPUs of its node.
/// - [`PinMode::Cpu`]: pinned to one CPU of its node; the workers of a node
///   take its CPUs in turn, so with more workers than CPUs each CPU is shared
///   evenly.
pub fn plan(topology: &Topology, mode: PinMode, workers: usize) -> Vec<Placement> {
    let nodes = topology.nodes();
    // Workers already placed on each node.
    let mut placed = vec![0usize; nodes.len().max(1)];
    (0..workers)
        .map(|_| {
            // The node with the fewest workers per CPU (the first on a tie):
            // plain round robin when nodes are alike, and in proportion to
            // usable CPUs when a cpuset leaves some nodes with fewer.
            let node = (0..placed.len())
                .min_by(|&a, &b| {
                    let weight = |n: usize| nodes.get(n).map_or(1, |n| n.cpus.len().max(1));
                    (placed[a] * weight(b)).cmp(&(placed[b] * weight(a)))
                })
                .unwrap_or(0);
            let rank = placed[node];
            placed[node] += 1;
            let node_cpus = nodes.get(node).map_or(&[][..], |n| &n.cpus[..]);
            match mode {
                PinMode::None => Placement {
                    node: 0,
                    cpus: Vec::new(),
                },
                PinMode::Numa => Placement {
                    node,
                    cpus: node_cpus.to_vec(),
                },
                PinMode::Cpu => Placement {
                    node,
                    cpus: if node_cpus.is_empty() {
                        Vec::new()
                    } else {
                        vec![node_cpus[rank % node_cpus.len()]]
                    },
                },
            }
        })
        .collect()
}

/// The order in which `worker` visits the other workers to steal work: those
/// on its own node first, then the remote ones, each group in ring order
/// starting after `worker`. `worker` itself is not included; the result is
/// empty if `worker` is not an index of `placements`.
pub fn steal_order(placements: &[Placement], worker: usize) -> Vec<usize> {
    let Some(own) = placements.get(worker) else {
        return Vec::new();
    };
    let count = placements.len();
    let ring = (1..count).map(|step| (worker + step) % count);
    let mut order: Vec<usize> = ring
        .clone()
        .filter(|&other| placements[other].node == own.node)
        .collect();
    order.extend(ring.filter(|&other| placements[other].node != own.node));
    order
}

/// The CPUs the calling thread may run on (`sched_getaffinity`), sorted;
/// empty if they cannot be read.
#[cfg(target_os = "linux")]
pub fn allowed_cpus() -> Vec<usize> {
    use rustix::thread::{sched_getaffinity, CpuSet};
    match sched_getaffinity(None) {
        Ok(set) => (0..CpuSet::MAX_CPU)
            .filter(|&cpu| set.is_set(cpu))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The CPUs the calling thread may run on: unknown (empty) on this platform.
#[cfg(not(target_os = "linux"))]
pub fn allowed_cpus() -> Vec<usize> {
    Vec::new()
}

/// The topology of this machine: [`Topology::read`] of `/sys` restricted to
/// the calling thread's [`allowed_cpus`].
pub fn system() -> Topology {
    Topology::read(Path::new("/sys"), &allowed_cpus())
}

/// Restrict the calling thread to `cpus` (`sched_setaffinity`). An empty
/// list leaves the thread as it is.
///
/// A CPU id too large for the kernel's CPU set is `EINVAL`.
#[cfg(target_os = "linux")]
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), Errno> {
    use rustix::thread::{sched_setaffinity, CpuSet};
    if cpus.is_empty() {
        return Ok(());
    }
    let mut set = CpuSet::new();
    for &cpu in cpus {
        if cpu >= CpuSet::MAX_CPU {
            return Err(Errno::INVAL);
        }
        set.set(cpu);
    }
    sched_setaffinity(None, &set).map_err(Errno::from)
}

/// Restrict the calling thread to `cpus`: a no-op on this platform.
#[cfg(not(target_os = "linux"))]
pub fn pin_current_thread(cpus: &[usize]) -> Result<(), Errno> {
    let _ = cpus;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fake sysfs tree: `nodes` are `(N, cpulist text)`; `online` is the
    /// `cpu/online` text, if any.
    fn sysfs(nodes: &[(usize, &str)], online: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("devices/system/cpu")).unwrap();
        if let Some(online) = online {
            fs::write(root.join("devices/system/cpu/online"), online).unwrap();
        }
        for &(id, list) in nodes {
            let node = root.join(format!("devices/system/node/node{id}"));
            fs::create_dir_all(&node).unwrap();
            fs::write(node.join("cpulist"), list).unwrap();
        }
        dir
    }

    fn node(id: usize, cpus: &[usize]) -> Node {
        Node {
            id,
            cpus: cpus.to_vec(),
        }
    }

    fn read(dir: &tempfile::TempDir, allowed: &[usize]) -> Vec<Node> {
        Topology::read(dir.path(), allowed).nodes().to_vec()
    }

    fn cpus_of(placements: &[Placement]) -> Vec<Vec<usize>> {
        placements.iter().map(|p| p.cpus.clone()).collect()
    }

    fn nodes_of(placements: &[Placement]) -> Vec<usize> {
        placements.iter().map(|p| p.node).collect()
    }

    #[test]
    fn cpu_list_ranges_and_singletons() {
        assert_eq!(
            parse_cpu_list("0-3,8-11\n"),
            Some(vec![0, 1, 2, 3, 8, 9, 10, 11])
        );
        assert_eq!(parse_cpu_list("5"), Some(vec![5]));
        assert_eq!(parse_cpu_list("7,0-1,3"), Some(vec![0, 1, 3, 7]));
        assert_eq!(parse_cpu_list(" 2 - 3 , 9 \n"), Some(vec![2, 3, 9]));
        assert_eq!(parse_cpu_list("1-1"), Some(vec![1]));
        assert_eq!(parse_cpu_list("0-2,1-3"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("\n"), Some(vec![]));
    }

    #[test]
    fn cpu_list_malformed() {
        for bad in [
            "3-1",
            "a",
            "0-",
            "-3",
            "0,,1",
            "0-3,",
            "1-2-3",
            "+1",
            "0x1",
            "0-99999999999",
        ] {
            assert_eq!(parse_cpu_list(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn node_directory_names() {
        assert_eq!(node_id("node0"), Some(0));
        assert_eq!(node_id("node12"), Some(12));
        assert_eq!(node_id("node"), None);
        assert_eq!(node_id("node+1"), None);
        assert_eq!(node_id("possible"), None);
        assert_eq!(node_id("has_cpu"), None);
    }

    #[test]
    fn one_node() {
        let dir = sysfs(&[(0, "0-3\n")], Some("0-3\n"));
        assert_eq!(read(&dir, &[]), vec![node(0, &[0, 1, 2, 3])]);
        let topo = Topology::read(dir.path(), &[0, 1, 2, 3]);
        assert_eq!(topo.node_count(), 1);
        assert_eq!(topo.cpu_count(), 4);
        assert_eq!(PinChoice::Auto.resolve(&topo), PinMode::None);
    }

    #[test]
    fn two_nodes() {
        let dir = sysfs(&[(1, "4-7\n"), (0, "0-3\n")], Some("0-7\n"));
        let topo = Topology::read(dir.path(), &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(
            topo.nodes(),
            &[node(0, &[0, 1, 2, 3]), node(1, &[4, 5, 6, 7])]
        );
        assert_eq!(topo.node_count(), 2);
        assert_eq!(topo.cpu_count(), 8);
        assert_eq!(PinChoice::Auto.resolve(&topo), PinMode::Numa);
    }

    #[test]
    fn four_nodes_interleaved() {
        let dir = sysfs(
            &[(0, "0,4\n"), (1, "1,5\n"), (2, "2,6\n"), (3, "3,7\n")],
            None,
        );
        let topo = Topology::read(dir.path(), &[]);
        assert_eq!(
            topo.nodes(),
            &[
                node(0, &[0, 4]),
                node(1, &[1, 5]),
                node(2, &[2, 6]),
                node(3, &[3, 7])
            ]
        );
        assert_eq!(topo.cpu_count(), 8);
    }

    #[test]
    fn offline_cpus_are_dropped() {
        let dir = sysfs(&[(0, "0-3\n"), (1, "4-7\n")], Some("0-2,4-7\n"));
        assert_eq!(
            read(&dir, &[]),
            vec![node(0, &[0, 1, 2]), node(1, &[4, 5, 6, 7])]
        );
        // A node whose CPUs are all offline disappears.
        let dir = sysfs(&[(0, "0-3\n"), (1, "4-7\n")], Some("0-3\n"));
        assert_eq!(read(&dir, &[]), vec![node(0, &[0, 1, 2, 3])]);
    }

    #[test]
    fn affinity_mask_restricts_nodes() {
        let dir = sysfs(&[(0, "0-3\n"), (1, "4-7\n")], Some("0-7\n"));
        let topo = Topology::read(dir.path(), &[3, 2]);
        assert_eq!(topo.nodes(), &[node(0, &[2, 3])]);
        assert_eq!(PinChoice::Auto.resolve(&topo), PinMode::None);
        assert_eq!(read(&dir, &[3, 4]), vec![node(0, &[3]), node(1, &[4])]);
        assert_eq!(read(&dir, &[6]), vec![node(1, &[6])]);
    }

    #[test]
    fn missing_node_directory_is_one_node() {
        let dir = sysfs(&[], Some("0-5\n"));
        assert_eq!(read(&dir, &[1, 3]), vec![node(0, &[1, 3])]);
        assert_eq!(read(&dir, &[]), vec![node(0, &[0, 1, 2, 3, 4, 5])]);
        // An allowed CPU sysfs calls offline is dropped, unless none is left.
        assert_eq!(read(&dir, &[5, 9]), vec![node(0, &[5])]);
        assert_eq!(read(&dir, &[9]), vec![node(0, &[9])]);
        // Nothing known at all: one node without CPUs.
        let empty = tempfile::tempdir().unwrap();
        let topo = Topology::read(empty.path(), &[]);
        assert_eq!(topo.nodes(), &[node(0, &[])]);
        assert_eq!(topo.cpu_count(), 0);
        assert_eq!(PinChoice::Auto.resolve(&topo), PinMode::None);
        let topo = Topology::read(&PathBuf::from("/nonexistent/sysfs"), &[0, 1]);
        assert_eq!(topo.nodes(), &[node(0, &[0, 1])]);
    }

    #[test]
    fn affinity_outside_every_node_falls_back_to_one_node() {
        let dir = sysfs(&[(0, "0-1\n"), (1, "2-3\n")], None);
        assert_eq!(read(&dir, &[8, 9]), vec![node(0, &[8, 9])]);
    }

    #[test]
    fn memoryless_node_is_ignored() {
        let dir = sysfs(&[(0, "0-3\n"), (1, "\n"), (2, "")], None);
        let topo = Topology::read(dir.path(), &[]);
        assert_eq!(topo.nodes(), &[node(0, &[0, 1, 2, 3])]);
        assert_eq!(PinChoice::Auto.resolve(&topo), PinMode::None);
    }

    #[test]
    fn malformed_cpulist_ignores_that_node() {
        let dir = sysfs(&[(0, "0-3\n"), (1, "4-x\n"), (2, "8-11\n")], None);
        assert_eq!(
            read(&dir, &[]),
            vec![node(0, &[0, 1, 2, 3]), node(2, &[8, 9, 10, 11])]
        );
        // A node directory without cpulist, and unrelated entries.
        let root = dir.path().join("devices/system/node");
        fs::create_dir_all(root.join("node3")).unwrap();
        fs::write(root.join("possible"), "0-3\n").unwrap();
        fs::create_dir_all(root.join("nodeX")).unwrap();
        fs::write(root.join("nodeX/cpulist"), "12\n").unwrap();
        assert_eq!(
            read(&dir, &[]),
            vec![node(0, &[0, 1, 2, 3]), node(2, &[8, 9, 10, 11])]
        );
        // Only malformed lists: the single-node fallback.
        let dir = sysfs(&[(0, "garbage\n")], Some("0-1\n"));
        assert_eq!(read(&dir, &[]), vec![node(0, &[0, 1])]);
    }

    #[test]
    fn malformed_online_file_restricts_nothing() {
        let dir = sysfs(&[(0, "0-3\n")], Some("zero\n"));
        assert_eq!(read(&dir, &[]), vec![node(0, &[0, 1, 2, 3])]);
    }

    #[test]
    fn choices() {
        assert_eq!(PinChoice::parse("auto"), Some(PinChoice::Auto));
        assert_eq!(PinChoice::parse("none"), Some(PinChoice::None));
        assert_eq!(PinChoice::parse("cpu"), Some(PinChoice::Cpu));
        assert_eq!(PinChoice::parse("numa"), Some(PinChoice::Numa));
        assert_eq!(PinChoice::parse("NUMA"), None);
        assert_eq!(PinChoice::parse(""), None);
        let one = Topology::from_nodes(vec![node(0, &[0, 1])]);
        let two = Topology::from_nodes(vec![node(0, &[0]), node(1, &[1])]);
        assert_eq!(PinChoice::None.resolve(&two), PinMode::None);
        assert_eq!(PinChoice::Cpu.resolve(&one), PinMode::Cpu);
        assert_eq!(PinChoice::Numa.resolve(&one), PinMode::Numa);
        assert_eq!(PinChoice::Auto.resolve(&one), PinMode::None);
        assert_eq!(PinChoice::Auto.resolve(&two), PinMode::Numa);
        for mode in [PinMode::None, PinMode::Cpu, PinMode::Numa] {
            assert_eq!(
                PinChoice::parse(mode.name()).map(|c| c.resolve(&two)),
                Some(mode)
            );
        }
    }

    #[test]
    fn from_nodes_normalizes() {
        let topo = Topology::from_nodes(vec![node(3, &[9, 8, 8]), node(1, &[]), node(0, &[2])]);
        assert_eq!(topo.nodes(), &[node(0, &[2]), node(3, &[8, 9])]);
        assert_eq!(Topology::from_nodes(vec![]).nodes(), &[node(0, &[])]);
    }

    fn two_by_two() -> Topology {
        Topology::from_nodes(vec![node(0, &[0, 1]), node(1, &[2, 3])])
    }

    #[test]
    fn plan_none_pins_nothing() {
        let placements = plan(&two_by_two(), PinMode::None, 3);
        assert_eq!(nodes_of(&placements), vec![0, 0, 0]);
        assert_eq!(cpus_of(&placements), vec![Vec::<usize>::new(); 3]);
        assert!(plan(&two_by_two(), PinMode::Numa, 0).is_empty());
    }

    #[test]
    fn plan_numa_spreads_across_nodes() {
        let placements = plan(&two_by_two(), PinMode::Numa, 5);
        assert_eq!(nodes_of(&placements), vec![0, 1, 0, 1, 0]);
        assert_eq!(
            cpus_of(&placements),
            vec![vec![0, 1], vec![2, 3], vec![0, 1], vec![2, 3], vec![0, 1]]
        );
    }

    #[test]
    fn plan_numa_uses_node_index_not_id() {
        let topo = Topology::from_nodes(vec![node(2, &[4]), node(5, &[7])]);
        let placements = plan(&topo, PinMode::Numa, 2);
        assert_eq!(nodes_of(&placements), vec![0, 1]);
        assert_eq!(cpus_of(&placements), vec![vec![4], vec![7]]);
    }

    #[test]
    fn plan_cpu_cycles_through_node_cpus() {
        let placements = plan(&two_by_two(), PinMode::Cpu, 4);
        assert_eq!(nodes_of(&placements), vec![0, 1, 0, 1]);
        assert_eq!(
            cpus_of(&placements),
            vec![vec![0], vec![2], vec![1], vec![3]]
        );
    }

    #[test]
    fn plan_cpu_more_workers_than_cpus() {
        let placements = plan(&two_by_two(), PinMode::Cpu, 10);
        assert_eq!(nodes_of(&placements), vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
        assert_eq!(
            cpus_of(&placements),
            vec![
                vec![0],
                vec![2],
                vec![1],
                vec![3],
                vec![0],
                vec![2],
                vec![1],
                vec![3],
                vec![0],
                vec![2]
            ]
        );
        // Single node of 3 CPUs, 7 workers: 3, 2, 2 workers per CPU.
        let one = Topology::from_nodes(vec![node(0, &[5, 6, 7])]);
        let placements = plan(&one, PinMode::Cpu, 7);
        assert_eq!(
            cpus_of(&placements),
            vec![
                vec![5],
                vec![6],
                vec![7],
                vec![5],
                vec![6],
                vec![7],
                vec![5]
            ]
        );
    }

    #[test]
    fn plan_spreads_workers_in_proportion_to_cpus() {
        let topo = Topology::from_nodes(vec![
            Node {
                id: 0,
                cpus: (0..7).collect(),
            },
            Node {
                id: 1,
                cpus: vec![7],
            },
        ]);
        let placed = plan(&topo, PinMode::Numa, 8);
        let on_node1 = placed.iter().filter(|p| p.node == 1).count();
        assert_eq!(on_node1, 1, "{placed:?}");
        let cpus: Vec<usize> = plan(&topo, PinMode::Cpu, 8)
            .iter()
            .map(|p| p.cpus[0])
            .collect();
        let mut sorted = cpus.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..8).collect::<Vec<_>>(),
            "one worker per CPU: {cpus:?}"
        );
    }

    #[test]
    fn plan_on_unknown_topology_pins_nothing() {
        let unknown = Topology::from_nodes(vec![]);
        for mode in [PinMode::None, PinMode::Cpu, PinMode::Numa] {
            let placements = plan(&unknown, mode, 2);
            assert_eq!(nodes_of(&placements), vec![0, 0]);
            assert_eq!(cpus_of(&placements), vec![Vec::<usize>::new(); 2]);
        }
    }

    #[test]
    fn steal_order_local_first() {
        // Workers 0, 2, 4 on node 0; 1, 3, 5 on node 1.
        let placements = plan(&two_by_two(), PinMode::Numa, 6);
        assert_eq!(steal_order(&placements, 0), vec![2, 4, 1, 3, 5]);
        assert_eq!(steal_order(&placements, 3), vec![5, 1, 4, 0, 2]);
        assert_eq!(steal_order(&placements, 4), vec![0, 2, 5, 1, 3]);
        assert_eq!(steal_order(&placements, 6), Vec::<usize>::new());
        // One node: plain ring order.
        let placements = plan(&two_by_two(), PinMode::None, 4);
        assert_eq!(steal_order(&placements, 2), vec![3, 0, 1]);
        assert_eq!(steal_order(&placements[..1], 0), Vec::<usize>::new());
    }

    #[test]
    fn pin_empty_is_a_no_op() {
        assert_eq!(pin_current_thread(&[]), Ok(()));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn real_machine_affinity() {
        let allowed = allowed_cpus();
        assert!(!allowed.is_empty());
        assert!(allowed.windows(2).all(|w| w[0] < w[1]), "{allowed:?}");
        let topo = system();
        assert!(topo.cpu_count() >= 1);
        for node in topo.nodes() {
            assert!(
                node.cpus.iter().all(|cpu| allowed.contains(cpu)),
                "{topo:?}"
            );
        }
        let first = allowed[0];
        let (all, one) = std::thread::spawn(move || {
            let all = pin_current_thread(&allowed_cpus()).map(|()| allowed_cpus());
            let one = pin_current_thread(&[first]).map(|()| allowed_cpus());
            (all, one)
        })
        .join()
        .unwrap();
        assert_eq!(all, Ok(allowed));
        assert_eq!(one, Ok(vec![first]));
        assert_eq!(
            pin_current_thread(&[rustix::thread::CpuSet::MAX_CPU]),
            Err(Errno::INVAL)
        );
    }
}

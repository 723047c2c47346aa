//! Shared helpers for fdu's integration tests: tree builders, running fdu
//! and GNU du, and comparing their output.
//!
//! Every tree lives in its own temporary directory (on the real disk, see
//! [`scratch_root`]) as `<tmp>/t`; both programs run with `<tmp>` as their
//! working directory and relative paths as arguments, so their lines can be
//! compared as they are.
#![allow(dead_code)]

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tempfile::TempDir;

/// GNU du, the oracle.
pub const DU: &str = "/usr/bin/du";

/// Environment variables that change du's (and fdu's) output; removed from
/// every run unless a test sets them on purpose.
const UNIT_VARS: &[&str] = &[
    "DU_BLOCK_SIZE",
    "BLOCK_SIZE",
    "BLOCKSIZE",
    "POSIXLY_CORRECT",
    "QUOTING_STYLE",
    "TIME_STYLE",
];

/// The fdu binary cargo built for these tests.
pub fn fdu_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fdu"))
}

/// `bytes` as an `OsString` (for non-UTF-8 arguments).
pub fn os(bytes: impl AsRef<[u8]>) -> OsString {
    OsString::from_vec(bytes.as_ref().to_vec())
}

/// A list of `&str` as `OsString`s.
pub fn oss(items: &[&str]) -> Vec<OsString> {
    items.iter().map(OsString::from).collect()
}

/// Where temporary trees go: the system temp dir, unless it is a memory
/// file system (tmpfs allocates differently from a disk), in which case
/// cargo's per-target temp dir is used.
pub fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let tmp = std::env::temp_dir();
        let fstype = Command::new("stat")
            .args(["-f", "-c", "%T"])
            .arg(&tmp)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if matches!(fstype.as_str(), "tmpfs" | "ramfs") {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
            fs::create_dir_all(&dir).expect("create CARGO_TARGET_TMPDIR");
            dir
        } else {
            tmp
        }
    })
}

/// A fresh temporary directory under [`scratch_root`].
pub fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("fdu-it-")
        .tempdir_in(scratch_root())
        .expect("create a temporary directory")
}

/// The result of running a program.
#[derive(Debug, Clone)]
pub struct Run {
    /// Exit code, or 128 + signal number when killed by a signal.
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The command line, for messages.
    pub cmd: String,
}

impl Run {
    /// stderr as (lossy) text.
    pub fn err_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// stdout as (lossy) text.
    pub fn out_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Shorten `s` for a message, keeping both ends.
pub fn shorten(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let keep = max / 2;
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}...[{} chars]...{tail}", chars.len() - 2 * keep)
}

/// A printable, shortened form of a command line.
pub fn describe(argv: &[OsString]) -> String {
    argv.iter()
        .enumerate()
        .map(|(i, a)| {
            let mut text = show(a.as_bytes());
            if i == 0 || text.ends_with("/fdu") || text.ends_with("/du") {
                text = text.rsplit('/').next().unwrap_or_default().to_string();
            }
            if text.contains([' ', '\t', '*']) || text.is_empty() {
                text = format!("'{text}'");
            }
            shorten(&text, 60)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `argv` in `cwd` with the unit variables removed and `env` set.
pub fn run_argv(argv: &[OsString], cwd: &Path, env: &[(OsString, OsString)]) -> Run {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(cwd).stdin(Stdio::null());
    for var in UNIT_VARS {
        cmd.env_remove(var);
    }
    cmd.env("LC_ALL", "C").env("LANG", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(argv)));
    Run {
        code: out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0)),
        stdout: out.stdout,
        stderr: out.stderr,
        cmd: describe(argv),
    }
}

fn argv(program: impl AsRef<OsStr>, args: &[OsString]) -> Vec<OsString> {
    let mut v = vec![program.as_ref().to_os_string()];
    v.extend(args.iter().cloned());
    v
}

/// Run fdu with `args` in `cwd`.
pub fn fdu(cwd: &Path, args: &[OsString]) -> Run {
    run_argv(&argv(fdu_bin(), args), cwd, &[])
}

/// Run fdu with `args` (all UTF-8) in `cwd`.
pub fn fdu_s(cwd: &Path, args: &[&str]) -> Run {
    fdu(cwd, &oss(args))
}

/// Run GNU du with `args` in `cwd`.
pub fn du(cwd: &Path, args: &[OsString]) -> Run {
    run_argv(&argv(DU, args), cwd, &[])
}

/// Run GNU du with `args` (all UTF-8) in `cwd`.
pub fn du_s(cwd: &Path, args: &[&str]) -> Run {
    du(cwd, &oss(args))
}

/// Whether the tests run as root (`id -u` prints 0).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether `program --version` runs (the tool exists).
pub fn have_tool(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Output handling
// ---------------------------------------------------------------------------

/// The records of `out`, each without its terminator.
pub fn records(out: &[u8], term: u8) -> Vec<Vec<u8>> {
    if out.is_empty() {
        return Vec::new();
    }
    let body = out.strip_suffix(&[term]).unwrap_or(out);
    body.split(|&b| b == term).map(<[u8]>::to_vec).collect()
}

/// Sorted copy.
pub fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// The path of a `SIZE\tPATH` record.
pub fn path_of(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b == b'\t') {
        Some(i) => &line[i + 1..],
        None => line,
    }
}

/// The size field of a `SIZE\tPATH` record.
pub fn size_of(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b == b'\t') {
        Some(i) => &line[..i],
        None => line,
    }
}

/// A record as text for messages (lossy, control bytes escaped, shortened).
pub fn show(line: &[u8]) -> String {
    let mut s = String::new();
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\t' => s.push_str("\\t"),
                '\n' => s.push_str("\\n"),
                c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    shorten(&s, 140)
}

/// `None` if `a` and `b` hold the same records (as multisets), else a
/// report of the records only one side has.
pub fn multiset_diff(a_name: &str, a: &[Vec<u8>], b_name: &str, b: &[Vec<u8>]) -> Option<String> {
    let mut count: HashMap<&[u8], i64> = HashMap::new();
    for l in a {
        *count.entry(l).or_default() += 1;
    }
    for l in b {
        *count.entry(l).or_default() -= 1;
    }
    let mut only_a: Vec<&[u8]> = Vec::new();
    let mut only_b: Vec<&[u8]> = Vec::new();
    for (l, n) in count {
        for _ in 0..n.max(0) {
            only_a.push(l);
        }
        for _ in 0..(-n).max(0) {
            only_b.push(l);
        }
    }
    if only_a.is_empty() && only_b.is_empty() {
        return None;
    }
    only_a.sort();
    only_b.sort();
    let mut msg = String::new();
    for (name, lines) in [(a_name, &only_a), (b_name, &only_b)] {
        msg.push_str(&format!("    only in {name} ({}):\n", lines.len()));
        for l in lines.iter().take(12) {
            msg.push_str(&format!("      {}\n", show(l)));
        }
        if lines.len() > 12 {
            msg.push_str("      ...\n");
        }
    }
    Some(msg)
}

/// stderr lines with the program name (`/usr/bin/du: `, `fdu: `) replaced
/// by `PROG: `, sorted (workers report in any order).
pub fn normalized_stderr(stderr: &[u8]) -> Vec<Vec<u8>> {
    let lines =
        records(stderr, b'\n')
            .into_iter()
            .map(|l| match l.windows(2).position(|w| w == b": ") {
                Some(i) => [b"PROG".as_slice(), &l[i..]].concat(),
                None => l,
            });
    sorted(lines.collect())
}

/// How fdu prints an argument (two or more trailing slashes become one).
pub fn root_display(arg: &[u8]) -> Vec<u8> {
    let mut len = arg.len();
    if len > 2 && arg[len - 1] == b'/' {
        while len > 1 && arg[len - 2] == b'/' {
            len -= 1;
        }
    }
    arg[..len].to_vec()
}

/// Check fdu's documented order for one argument: children before their
/// parent, siblings in byte order of their names (a depth-first post-order
/// with sorted children).
pub fn check_order(lines: &[Vec<u8>], root: &[u8]) -> Result<(), String> {
    fn components<'a>(path: &'a [u8], root: &[u8]) -> Option<Vec<&'a [u8]>> {
        let rest = path.strip_prefix(root)?;
        let rest = match rest.strip_prefix(b"/") {
            Some(r) => r,
            None if rest.is_empty() || root.ends_with(b"/") => rest,
            None => return None,
        };
        if rest.is_empty() {
            return Some(Vec::new());
        }
        Some(rest.split(|&b| b == b'/').collect())
    }
    fn post_order(a: &[&[u8]], b: &[&[u8]]) -> std::cmp::Ordering {
        for (x, y) in a.iter().zip(b) {
            if x != y {
                return x.cmp(y);
            }
        }
        // The longer one is a descendant: it comes first.
        b.len().cmp(&a.len())
    }
    let mut prev: Option<(Vec<&[u8]>, &Vec<u8>)> = None;
    for line in lines {
        let comps = components(path_of(line), root)
            .ok_or_else(|| format!("line outside argument {}: {}", show(root), show(line)))?;
        if let Some((p, pl)) = &prev {
            if post_order(p, &comps) != std::cmp::Ordering::Less {
                return Err(format!("order: {} printed before {}", show(pl), show(line)));
            }
        }
        prev = Some((comps, line));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Comparing with du
// ---------------------------------------------------------------------------

/// How a comparison with du is run.
#[derive(Clone, Default)]
pub struct How {
    /// A command both du and fdu run under (e.g. `setpriv ...`).
    pub wrapper: Vec<OsString>,
    /// A command only fdu runs under (e.g. `prlimit ...`).
    pub fdu_wrapper: Vec<OsString>,
    /// fdu-only options, placed before the shared ones.
    pub fdu_opts: Vec<OsString>,
    /// Extra environment for both.
    pub env: Vec<(OsString, OsString)>,
    /// Compare only the lines of the arguments and `total` (per-directory
    /// lines may differ: hard links across directories).
    pub totals_only: bool,
    /// Run this binary instead of [`fdu_bin`].
    pub fdu_bin: Option<PathBuf>,
}

impl How {
    /// Only fdu-only options.
    pub fn fdu_opts(opts: &[&str]) -> How {
        How {
            fdu_opts: oss(opts),
            ..How::default()
        }
    }
    /// Compare only totals.
    pub fn totals() -> How {
        How {
            totals_only: true,
            ..How::default()
        }
    }
}

/// A test tree: `<tmp>/t`, plus what the comparison must know about it.
pub struct Tree {
    pub tmp: TempDir,
    /// Groups of printed paths (relative to [`Tree::cwd`]) naming one file
    /// from within one directory. Which name du prints under `-a` depends on
    /// readdir order; fdu prints the first in byte order. Both outputs map
    /// them to one tag before comparing.
    pub link_groups: Vec<Vec<Vec<u8>>>,
    /// Like `link_groups`, but only under `-L` (a symlink and its target in
    /// one directory).
    pub deref_groups: Vec<Vec<Vec<u8>>>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty tree: `<tmp>/t` exists and is empty.
    pub fn new() -> Tree {
        let tmp = scratch();
        fs::create_dir(tmp.path().join("t")).expect("mkdir t");
        Tree {
            tmp,
            link_groups: Vec::new(),
            deref_groups: Vec::new(),
        }
    }

    /// A tree whose `t` is yet to be made (by a script).
    pub fn bare() -> Tree {
        Tree {
            tmp: scratch(),
            link_groups: Vec::new(),
            deref_groups: Vec::new(),
        }
    }

    /// The working directory of every run.
    pub fn cwd(&self) -> &Path {
        self.tmp.path()
    }

    /// The absolute path of `rel` (relative to the working directory).
    pub fn p(&self, rel: impl AsRef<[u8]>) -> PathBuf {
        self.cwd().join(OsStr::from_bytes(rel.as_ref()))
    }

    pub fn mkdir(&self, rel: impl AsRef<[u8]>) {
        let p = self.p(rel);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
    }

    /// A file of `len` bytes of non-zero data.
    pub fn file(&self, rel: impl AsRef<[u8]>, len: usize) {
        let p = self.p(rel);
        let data: Vec<u8> = (0..len).map(|i| b'a' + (i % 23) as u8).collect();
        fs::write(&p, data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    pub fn hardlink(&self, existing: impl AsRef<[u8]>, new: impl AsRef<[u8]>) {
        fs::hard_link(self.p(existing), self.p(new)).expect("hard link");
    }

    pub fn symlink(&self, target: impl AsRef<[u8]>, rel: impl AsRef<[u8]>) {
        std::os::unix::fs::symlink(OsStr::from_bytes(target.as_ref()), self.p(rel))
            .expect("symlink");
    }

    /// Record a group of hard links within one directory.
    pub fn group(&mut self, names: &[&[u8]]) {
        self.link_groups
            .push(names.iter().map(|n| n.to_vec()).collect());
    }

    /// Run fdu here.
    pub fn fdu(&self, args: &[&str]) -> Run {
        fdu_s(self.cwd(), args)
    }

    /// Run du here.
    pub fn du(&self, args: &[&str]) -> Run {
        du_s(self.cwd(), args)
    }

    /// Map link-group members to one tag per group.
    fn normalize(&self, lines: Vec<Vec<u8>>, deref: bool) -> Vec<Vec<u8>> {
        let mut tag: HashMap<&[u8], usize> = HashMap::new();
        let groups = self
            .link_groups
            .iter()
            .chain(self.deref_groups.iter().filter(|_| deref));
        for (i, g) in groups.enumerate() {
            for p in g {
                tag.insert(p, i);
            }
        }
        lines
            .into_iter()
            .map(|l| match tag.get(path_of(&l)) {
                Some(i) => [size_of(&l), format!("\t<link group {i}>").as_bytes()].concat(),
                None => l,
            })
            .collect()
    }

    /// Compare `fdu OPTS PATHS` with `du OPTS PATHS`: exit code, stdout as
    /// sorted lines, stderr as sorted lines (program name aside). With one
    /// path, also check fdu's line order.
    pub fn check(&self, opts: &[&str], paths: &[&str], how: &How) -> Result<(), String> {
        self.check_os(&oss(opts), &oss(paths), how)
    }

    /// [`Tree::check`] with `OsString` arguments.
    pub fn check_os(&self, opts: &[OsString], paths: &[OsString], how: &How) -> Result<(), String> {
        let mut du_argv = how.wrapper.clone();
        du_argv.push(DU.into());
        du_argv.extend(opts.iter().cloned());
        du_argv.extend(paths.iter().cloned());
        let mut fdu_argv = how.wrapper.clone();
        fdu_argv.extend(how.fdu_wrapper.iter().cloned());
        fdu_argv.push(how.fdu_bin.clone().unwrap_or_else(fdu_bin).into_os_string());
        fdu_argv.extend(how.fdu_opts.iter().cloned());
        fdu_argv.extend(opts.iter().cloned());
        fdu_argv.extend(paths.iter().cloned());
        let d = run_argv(&du_argv, self.cwd(), &how.env);
        let f = run_argv(&fdu_argv, self.cwd(), &how.env);

        let has = |o: &str| opts.iter().any(|a| a == o);
        let term = if has("-0") || has("--null") { 0 } else { b'\n' };
        let deref = has("-L") || has("--dereference");
        let mut problems = Vec::new();
        if d.code != f.code {
            problems.push(format!("    exit code: du {} fdu {}", d.code, f.code));
        }
        if !f.stdout.is_empty() && f.stdout.last() != Some(&term) {
            problems.push("    fdu's output does not end with its terminator".to_string());
        }
        let mut dl = records(&d.stdout, term);
        let mut fl = records(&f.stdout, term);
        if paths.len() == 1 && !how.totals_only {
            let mut body = fl.clone();
            if (has("-c") || has("--total")) && body.last().map(|l| path_of(l)) == Some(b"total") {
                body.pop();
            }
            if let Err(e) = check_order(&body, &root_display(paths[0].as_bytes())) {
                problems.push(format!("    {e}"));
            }
        }
        if how.totals_only {
            let keep: Vec<Vec<u8>> = paths
                .iter()
                .map(|p| root_display(p.as_bytes()))
                .chain([b"total".to_vec()])
                .collect();
            dl.retain(|l| keep.iter().any(|k| k == path_of(l)));
            fl.retain(|l| keep.iter().any(|k| k == path_of(l)));
        }
        let dl = self.normalize(dl, deref);
        let fl = self.normalize(fl, deref);
        if let Some(diff) = multiset_diff("du", &dl, "fdu", &fl) {
            problems.push(format!("    stdout differs:\n{diff}"));
        }
        let mut de = normalized_stderr(&d.stderr);
        let mut fe = normalized_stderr(&f.stderr);
        if how.totals_only {
            // Which path an aliased entry is reported under may differ too.
            de = de.into_iter().map(|l| unquote_paths(&l)).collect();
            fe = fe.into_iter().map(|l| unquote_paths(&l)).collect();
        }
        if let Some(diff) = multiset_diff("du", &de, "fdu", &fe) {
            problems.push(format!("    stderr differs:\n{diff}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}\n{}", f.cmd, problems.join("\n")))
        }
    }
}

/// A diagnostic with its quoted path replaced by `PATH`: from the first
/// quote to the last (a quoted name may hold quotes of both kinds; the
/// reason after it holds none).
fn unquote_paths(line: &[u8]) -> Vec<u8> {
    let is_quote = |b: &u8| *b == b'\'' || *b == b'"';
    let (Some(start), Some(end)) = (
        line.iter().position(is_quote),
        line.iter().rposition(is_quote),
    ) else {
        return line.to_vec();
    };
    [&line[..start], b"PATH".as_slice(), &line[end + 1..]].concat()
}

/// Collects failures so one test reports every mismatching case.
#[derive(Default)]
pub struct Failures(pub Vec<String>);

impl Failures {
    pub fn add(&mut self, r: Result<(), String>) {
        if let Err(e) = r {
            self.0.push(e);
        }
    }
    pub fn push(&mut self, msg: String) {
        self.0.push(msg);
    }
    /// Panic listing every failure, if any.
    pub fn finish(self, what: &str) {
        if !self.0.is_empty() {
            panic!(
                "{what}: {} failing case(s):\n\n{}",
                self.0.len(),
                self.0.join("\n\n")
            );
        }
    }
}

/// Restores mode 0755 on directories a test made unreadable, so the
/// temporary tree can be removed.
pub struct ModeGuard(pub Vec<PathBuf>);

impl Drop for ModeGuard {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o755));
        }
    }
}

pub fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

// ---------------------------------------------------------------------------
// Running under a How (the machine-readable outputs' tests)
// ---------------------------------------------------------------------------

impl How {
    /// Run fdu with `args` in `cwd`, under this wrapper, binary and options.
    pub fn fdu(&self, cwd: &Path, args: &[OsString]) -> Run {
        let mut argv = self.wrapper.clone();
        argv.extend(self.fdu_wrapper.iter().cloned());
        argv.push(
            self.fdu_bin
                .clone()
                .unwrap_or_else(fdu_bin)
                .into_os_string(),
        );
        argv.extend(self.fdu_opts.iter().cloned());
        argv.extend(args.iter().cloned());
        run_argv(&argv, cwd, &self.env)
    }

    /// Run GNU du with `args` in `cwd`, under this wrapper.
    pub fn du(&self, cwd: &Path, args: &[OsString]) -> Run {
        let mut argv = self.wrapper.clone();
        argv.push(DU.into());
        argv.extend(args.iter().cloned());
        run_argv(&argv, cwd, &self.env)
    }
}

/// As root, a [`How`] that runs both programs as nobody (setpriv), so that
/// permissions apply; as anyone else, the default. `None` (after printing
/// why) when that cannot be done.
pub fn unprivileged_how(t: &Tree) -> Option<How> {
    if !is_root() {
        return Some(How::default());
    }
    if !have_tool("setpriv") {
        eprintln!("SKIPPED: running as root and setpriv (util-linux) is not installed");
        return None;
    }
    chmod(t.cwd(), 0o755);
    // Named fdu, so that its messages say `fdu:` (they use argv[0]).
    fs::create_dir_all(t.cwd().join("bin")).expect("mkdir bin");
    chmod(&t.cwd().join("bin"), 0o755);
    let bin: PathBuf = t.cwd().join("bin/fdu");
    fs::copy(fdu_bin(), &bin).expect("copy the fdu binary");
    chmod(&bin, 0o755);
    let wrapper = oss(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    let mut probe = wrapper.clone();
    probe.extend([
        OsString::from("test"),
        OsString::from("-x"),
        bin.clone().into_os_string(),
    ]);
    if run_argv(&probe, t.cwd(), &[]).code != 0 {
        eprintln!(
            "SKIPPED: uid 65534 cannot reach {} (a parent directory is not world-searchable)",
            t.cwd().display()
        );
        return None;
    }
    Some(How {
        wrapper,
        fdu_bin: Some(bin),
        ..How::default()
    })
}

/// du's `-0` records as (number, path); panics on a size that is not a
/// number.
pub fn numbered(out: &[u8]) -> Vec<(u64, Vec<u8>)> {
    records(out, 0)
        .into_iter()
        .map(|l| {
            let n = std::str::from_utf8(size_of(&l))
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("not a number: {}", show(&l)));
            (n, path_of(&l).to_vec())
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Named trees
// ---------------------------------------------------------------------------

/// Nested directories, files of assorted sizes, names that sort in
/// interesting ways, a FIFO and a socket.
pub fn basic() -> Tree {
    let t = Tree::new();
    t.file("t/a.txt", 100);
    t.file("t/b.bin", 5000);
    t.file("t/c.txt", 0);
    t.file("t/big.dat", (1 << 20) + 7);
    t.mkdir("t/sub1/deeper/more");
    t.file("t/sub1/x.txt", 4097);
    t.file("t/sub1/y", 1);
    t.file("t/sub1/deeper/z.txt", 12288);
    t.file("t/sub1/deeper/more/w.bin", 70000);
    t.mkdir("t/sub2");
    t.mkdir("t/sub3/sub1");
    t.file("t/sub3/q.txt", 10);
    t.file("t/sub3/sub1/inner.txt", 9000);
    t.mkdir("t/with space");
    t.file("t/with space/tab\tname", 33);
    t.mkdir("t/order");
    let names = [
        "B", "Z", "_", "aa", "a.b", "10", "9", "é", "-n", "é.txt", "a-",
    ];
    for (i, name) in names.iter().enumerate() {
        t.file(format!("t/order/{name}"), i * 1500);
    }
    t.mkdir("t/order/a");
    t.file("t/order/a/inside", 3);
    let fifo = t.p("t/sub2/fifo");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "mkfifo failed");
    let sock = std::os::unix::net::UnixListener::bind(t.p("t/sub2/sock")).expect("bind socket");
    drop(sock);
    t
}

/// Hard links only within single directories (per-directory output must
/// equal du's).
pub fn links_within() -> Tree {
    let mut t = Tree::new();
    t.mkdir("t/d1");
    t.file("t/d1/f", 5000);
    t.hardlink("t/d1/f", "t/d1/f_link");
    t.file("t/d1/plain", 300);
    t.mkdir("t/d2");
    t.file("t/d2/g", 20000);
    t.hardlink("t/d2/g", "t/d2/g2");
    t.hardlink("t/d2/g", "t/d2/a_third");
    t.mkdir("t/d2/inner");
    t.file("t/d2/inner/h", 9000);
    t.hardlink("t/d2/inner/h", "t/d2/inner/h2");
    t.file("t/r", 7000);
    t.hardlink("t/r", "t/r2");
    t.file("t/s", 100);
    t.group(&[b"t/d1/f", b"t/d1/f_link"]);
    t.group(&[b"t/d2/g", b"t/d2/g2", b"t/d2/a_third"]);
    t.group(&[b"t/d2/inner/h", b"t/d2/inner/h2"]);
    t.group(&[b"t/r", b"t/r2"]);
    t
}

/// Hard links across directories (only totals must equal du's), including
/// a file linked three times.
pub fn links_across() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/deep");
    t.mkdir("t/b");
    t.mkdir("t/c");
    t.file("t/a/f", 5000);
    t.hardlink("t/a/f", "t/b/f_link");
    t.file("t/c/triple", 40000);
    t.hardlink("t/c/triple", "t/a/deep/triple2");
    t.hardlink("t/c/triple", "t/b/triple3");
    t.file("t/a/own", 100);
    t.file("t/b/own", 8000);
    t.file("t/c/own", 1);
    t.file("t/top", 12345);
    t.hardlink("t/top", "t/c/top_again");
    t
}

/// Symlinks to a file, to a directory, to an ancestor; with `dangling`,
/// also a dangling link and a loop (a -> b -> a).
pub fn symlinks(dangling: bool) -> Tree {
    let mut t = Tree::new();
    t.file("t/file", 6000);
    t.symlink("file", "t/lfile");
    t.mkdir("t/dir/sub");
    t.file("t/dir/x", 3000);
    t.file("t/dir/sub/y", 9000);
    t.symlink("dir", "t/ldir");
    t.mkdir("t/sub/deep");
    t.file("t/sub/s", 10);
    t.symlink("..", "t/sub/up");
    t.symlink("../..", "t/sub/deep/up2");
    let abs = t.p("t/file");
    t.symlink(abs.as_os_str().as_bytes(), "t/abs_file");
    t.deref_groups.push(vec![
        b"t/file".to_vec(),
        b"t/lfile".to_vec(),
        b"t/abs_file".to_vec(),
    ]);
    if dangling {
        t.symlink("nowhere", "t/dang");
        t.symlink("loop_b", "t/loop_a");
        t.symlink("loop_a", "t/loop_b");
        t.symlink("../missing/x", "t/dir/dang2");
    }
    t
}

/// Sparse files: 100 MB with a few written bytes, one with holes between
/// data, one all hole.
pub fn sparse() -> Tree {
    use std::io::{Seek, SeekFrom};
    let t = Tree::new();
    let write_at = |f: &mut File, at: u64, data: &[u8]| {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(data).unwrap();
    };
    let mut f = File::create(t.p("t/sparse100m")).unwrap();
    f.set_len(100_000_000).unwrap();
    write_at(&mut f, 0, b"head");
    write_at(&mut f, 50_000_000, b"middle");
    write_at(&mut f, 99_999_990, b"tail");
    let mut f = File::create(t.p("t/holes")).unwrap();
    write_at(&mut f, 0, &[7u8; 4096]);
    write_at(&mut f, 1 << 20, &[8u8; 8192]);
    write_at(&mut f, 3 << 20, &[9u8; 100]);
    f.set_len(4 << 20).unwrap();
    let f = File::create(t.p("t/allhole")).unwrap();
    f.set_len(10_000_000).unwrap();
    t.mkdir("t/sub");
    let mut f = File::create(t.p("t/sub/sparse2")).unwrap();
    f.set_len(123_456_789).unwrap();
    write_at(&mut f, 77_777_777, b"x");
    t.file("t/sub/dense", 10000);
    t
}

/// Empty directories, nested, and an empty file.
pub fn empty_dirs() -> Tree {
    let t = Tree::new();
    t.mkdir("t/e1");
    t.mkdir("t/e2/e3/e4");
    t.mkdir("t/e2/e3b");
    t.mkdir("t/e5");
    t.file("t/e5/empty", 0);
    t
}

/// Names that are not UTF-8.
pub fn non_utf8() -> Tree {
    let t = Tree::new();
    t.file(b"t/\xff\xfe", 5000);
    t.mkdir(b"t/dir\xff");
    t.file(b"t/dir\xff/\xe9t\xe9", 7000);
    t.file(b"t/dir\xff/a\x80b", 1);
    t.mkdir(b"t/dir\xff/\xc0\xc1sub");
    t.file(b"t/dir\xff/\xc0\xc1sub/x", 300);
    t.file("t/ok.txt", 20);
    t
}

/// 255-byte names: a file, and directories (three deep) holding files.
pub fn long_names() -> Tree {
    let t = Tree::new();
    let f = "f".repeat(255);
    let d = "d".repeat(255);
    let g = "g".repeat(255);
    let e = "é".repeat(127) + "e"; // 255 bytes, multi-byte characters
    t.file(format!("t/{f}"), 3000);
    t.mkdir(format!("t/{d}/{d}/{d}"));
    t.file(format!("t/{d}/{g}"), 5000);
    t.file(format!("t/{d}/{d}/{d}/{g}"), 70);
    t.file(format!("t/{e}"), 10);
    t.mkdir(format!("t/{}", "x".repeat(255)));
    t
}

/// One directory with `n` entries: empty files, every 100th with data, and
/// a hard link pair whose names fall in different 256-name batches.
pub fn wide(n: usize) -> Tree {
    let mut t = Tree::new();
    t.mkdir("t/w");
    let dir = t.p("t/w");
    for i in 0..n {
        let f = File::create(dir.join(format!("f{i:06}"))).expect("create");
        if i % 100 == 0 {
            (&f).write_all(&vec![b'x'; 1 + i % 9000]).unwrap();
        }
    }
    if n > 100 {
        t.hardlink("t/w/f000100", "t/w/z_link");
        t.group(&[b"t/w/f000100", b"t/w/z_link"]);
    }
    t.file("t/other.txt", 4000);
    t.mkdir("t/small");
    t.file("t/small/s", 10);
    t
}

/// The 40-byte directory name the deep tree repeats.
pub const DEEP_NAME: &str = "deep_level_directory_name_padding_xxxxxx";

/// A chain of `levels` directories named [`DEEP_NAME`] (200 levels make a
/// path of about 8 KB, twice `PATH_MAX`), with files at several levels, a
/// side directory half way, and a hard link pair one level from the
/// bottom. Built by a bash that `cd`s down, never by absolute paths.
pub fn deep(levels: usize) -> Tree {
    assert_eq!(DEEP_NAME.len(), 40);
    let mut t = Tree::bare();
    let script = r#"
        set -e
        cd "$1"
        mkdir t
        cd t
        N="$2"
        L="$3"
        for ((i = 1; i <= L; i++)); do
            mkdir "$N"
            cd "$N"
            if (( i == 1 || i % 50 == 0 )); then printf '%*s' $((i * 100)) '' > f; fi
            if (( i == L / 2 )); then mkdir side; printf 'side' > side/s; fi
            if (( i == L - 1 )); then printf 'hello' > h1; ln h1 h2; fi
        done
        printf 'bottom' > bottom
    "#;
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(t.cwd())
        .arg(DEEP_NAME)
        .arg(levels.to_string())
        .status()
        .expect("run bash");
    assert!(status.success(), "building the deep tree failed");
    let mut dir = String::from("t");
    for _ in 0..levels - 1 {
        dir.push('/');
        dir.push_str(DEEP_NAME);
    }
    t.group(&[
        format!("{dir}/h1").as_bytes(),
        format!("{dir}/h2").as_bytes(),
    ]);
    t
}

/// `levels` nested directories (`n00000000000001/n00000000000002/...`,
/// 15-byte names, over 4 KB of path), each also holding a sibling directory
/// `s<level>` with a file: a deep tree that branches at every level. The
/// names change per level so that, in readdir order, the sibling comes
/// after the next level in about half of the levels, whatever the file
/// system's hash: a depth-first walker then keeps those parents open (their
/// sibling task is pending) unless it budgets descriptors.
pub fn branching(levels: usize) -> Tree {
    let t = Tree::bare();
    let script = r#"
        set -e
        cd "$1"
        mkdir t
        cd t
        for ((i = 1; i <= $2; i++)); do
            printf -v n 'n%014d' "$i"
            printf -v s 's%014d' "$i"
            mkdir "$n" "$s"
            printf '%*s' $((i * 37)) '' > "$s/f"
            cd "$n"
        done
        printf 'end' > end
    "#;
    let status = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(t.cwd())
        .arg(levels.to_string())
        .status()
        .expect("run bash");
    assert!(status.success(), "building the branching tree failed");
    t
}

/// Directories reachable twice under `-L`: `t/aN/1/.../6/y` and a symlink
/// `t/b/lN` to it, `pairs` times (the symlink side is much shallower).
pub fn aliased_dirs(pairs: usize) -> Tree {
    let t = Tree::new();
    t.mkdir("t/b");
    for p in 0..pairs {
        let y = format!("t/a{p:02}/1/2/3/4/5/6/y");
        t.mkdir(&y);
        t.file(format!("{y}/f"), 100 + p * 700);
        t.symlink(format!("../a{p:02}/1/2/3/4/5/6/y"), format!("t/b/l{p:02}"));
    }
    t
}

/// The names [`named`] knows.
pub const TREE_NAMES: &[&str] = &[
    "basic",
    "links_within",
    "links_across",
    "symlinks",
    "symlinks_no_dangling",
    "sparse",
    "empty",
    "non_utf8",
    "long_names",
];

/// Build a tree by name.
pub fn named(name: &str) -> Tree {
    match name {
        "basic" => basic(),
        "links_within" => links_within(),
        "links_across" => links_across(),
        "symlinks" => symlinks(true),
        "symlinks_no_dangling" => symlinks(false),
        "sparse" => sparse(),
        "empty" => empty_dirs(),
        "non_utf8" => non_utf8(),
        "long_names" => long_names(),
        other => panic!("no tree named {other}"),
    }
}

/// A tree with what an export must carry and give back (tests/export.rs,
/// tests/import.rs): hard links within and across directories, a
/// symlink, a FIFO, a sparse file, a name that is not UTF-8, names that
/// need escaping, an empty directory, and a directory of more than one
/// stat batch.
#[allow(dead_code)]
pub fn export_tree() -> Tree {
    let t = Tree::new();
    t.mkdir("t/a/deep/deeper");
    t.mkdir("t/b");
    t.mkdir("t/empty");
    t.mkdir("t/wide");
    t.file("t/a/one", 5000);
    t.file("t/a/deep/two", 100);
    t.file("t/a/deep/deeper/three", 70000);
    t.hardlink("t/a/one", "t/b/one-again");
    t.hardlink("t/a/one", "t/a/one-here");
    t.hardlink("t/a/one", "t/a/deep/one-too");
    t.hardlink("t/a/deep/two", "t/b/two-again");
    t.symlink("../a/one", "t/b/link");
    t.file("t/b/quote\"back\\slash", 10);
    t.file("t/b/line\nbreak", 10);
    t.file(b"t/b/n\xffo", 1);
    let sparse = fs::File::create(t.p("t/b/sparse")).expect("create");
    sparse.set_len(1 << 20).expect("truncate");
    let made = Command::new("mkfifo")
        .arg(t.p("t/b/fifo"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for i in 0..700 {
        t.file(format!("t/wide/f{i:04}"), i % 9 * 300);
    }
    t
}

/// Unmounts what a test mounted, even when it fails.
pub struct Mounts(pub Vec<PathBuf>);

impl Drop for Mounts {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            let _ = Command::new("umount").arg("-l").arg(p).status();
        }
    }
}

/// Bind-mount `source` on `target`, or `None` where that is not allowed
/// (not root, or no mount namespace of our own).
pub fn bind(mounts: &mut Mounts, source: &Path, target: &Path) -> Option<()> {
    let ok = Command::new("mount")
        .arg("--bind")
        .arg(source)
        .arg(target)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| mounts.0.push(target.to_path_buf()))
}

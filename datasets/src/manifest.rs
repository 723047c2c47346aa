//! The manifest: what a plan makes, counted from the plan itself, written next
//! to the tree as `DIR.manifest.json` (inside it would change the tree's size).

use std::fmt::Write as _;

use crate::plan::{Kind, LinkClass, Plan, SPARSE_MARK};

/// Expected counts and sizes of a generated tree. All counts are of directory
/// entries as `find DIR` lists them, unless said otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// `mixed`, `wide` or `deep`.
    pub shape: &'static str,
    /// `--entries` as given.
    pub entries_requested: u64,
    /// `--seed` as given.
    pub seed: u64,
    /// Every entry including the root: what `find DIR | wc -l` prints.
    pub total_entries: u64,
    /// Directories including the root (`find DIR -type d`).
    pub dirs: u64,
    /// Distinct regular-file inodes, sparse ones included.
    pub regular_files: u64,
    /// Extra names of those inodes (each one more link).
    pub hard_links: u64,
    /// `find DIR -type f`: `regular_files + hard_links`.
    pub find_type_f: u64,
    /// `find DIR -type l`.
    pub symlinks: u64,
    /// Symlinks that resolve to nothing.
    pub dangling_symlinks: u64,
    /// Symlinks that are ELOOP when followed (self or pairwise).
    pub loop_symlinks: u64,
    /// Symlinks to `.` or an ancestor directory (a loop for `-L` walkers).
    pub ancestor_symlinks: u64,
    /// Regular files that are sparse.
    pub sparse_files: u64,
    /// Regular files of size 0.
    pub empty_files: u64,
    /// Entries whose name is not UTF-8.
    pub non_utf8_names: u64,
    /// Entries whose name is 255 bytes long.
    pub name_max_names: u64,
    /// Deepest directory (root = 0).
    pub max_depth: u64,
    /// Longest path of an entry relative to DIR, in bytes.
    pub max_rel_path_bytes: u64,
    /// Apparent bytes of regular files, each inode once.
    pub file_apparent_bytes: u64,
    /// Apparent bytes of symlinks (their target lengths).
    pub symlink_apparent_bytes: u64,
    /// `file_apparent_bytes + symlink_apparent_bytes`. Directory sizes depend
    /// on the filesystem and are left out: `du -sb DIR` is this plus the sum
    /// of `find DIR -type d -printf '%s\n'`.
    pub total_apparent_bytes: u64,
    /// Bytes actually written (sparse holes excluded).
    pub data_bytes: u64,
    /// FNV-1a digest of the whole plan (names, kinds, sizes, targets).
    pub plan_digest: String,
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

impl Manifest {
    /// Count what `plan` will make.
    pub fn of(plan: &Plan) -> Manifest {
        let mut m = Manifest {
            shape: plan.shape.name(),
            entries_requested: plan.entries,
            seed: plan.seed,
            total_entries: (plan.dirs.len() + plan.items.len()) as u64,
            dirs: plan.dirs.len() as u64,
            regular_files: 0,
            hard_links: 0,
            find_type_f: 0,
            symlinks: 0,
            dangling_symlinks: 0,
            loop_symlinks: 0,
            ancestor_symlinks: 0,
            sparse_files: 0,
            empty_files: 0,
            non_utf8_names: 0,
            name_max_names: 0,
            max_depth: 0,
            max_rel_path_bytes: 0,
            file_apparent_bytes: 0,
            symlink_apparent_bytes: 0,
            total_apparent_bytes: 0,
            data_bytes: 0,
            plan_digest: String::new(),
        };
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        fnv(&mut h, plan.shape.name().as_bytes());
        fnv(&mut h, &plan.entries.to_le_bytes());
        fnv(&mut h, &plan.seed.to_le_bytes());

        let name_stats = |m: &mut Manifest, name: &[u8]| {
            if std::str::from_utf8(name).is_err() {
                m.non_utf8_names += 1;
            }
            if name.len() == crate::plan::NAME_MAX {
                m.name_max_names += 1;
            }
        };

        let mut path_len = vec![0u64; plan.dirs.len()];
        for (i, d) in plan.dirs.iter().enumerate().skip(1) {
            let p = d.parent as usize;
            let sep = u64::from(p != 0);
            path_len[i] = path_len[p] + sep + d.name.len() as u64;
            m.max_rel_path_bytes = m.max_rel_path_bytes.max(path_len[i]);
            m.max_depth = m.max_depth.max(u64::from(d.depth));
            name_stats(&mut m, &d.name);
            fnv(&mut h, &d.parent.to_le_bytes());
            fnv(&mut h, &d.name);
            fnv(&mut h, &[0xff]);
        }
        for it in &plan.items {
            let sep = u64::from(it.dir != 0);
            let len = path_len[it.dir as usize] + sep + it.name.len() as u64;
            m.max_rel_path_bytes = m.max_rel_path_bytes.max(len);
            name_stats(&mut m, &it.name);
            fnv(&mut h, &it.dir.to_le_bytes());
            fnv(&mut h, &it.name);
            match &it.kind {
                Kind::File { size } => {
                    m.regular_files += 1;
                    m.file_apparent_bytes += size;
                    m.data_bytes += size;
                    m.empty_files += u64::from(*size == 0);
                    fnv(&mut h, b"F");
                    fnv(&mut h, &size.to_le_bytes());
                }
                Kind::Data {
                    size,
                    content,
                    flip,
                } => {
                    m.regular_files += 1;
                    m.file_apparent_bytes += size;
                    m.data_bytes += size;
                    m.empty_files += u64::from(*size == 0);
                    fnv(&mut h, b"D");
                    fnv(&mut h, &size.to_le_bytes());
                    fnv(&mut h, &content.to_le_bytes());
                    fnv(&mut h, &flip.map_or(u64::MAX, |f| f).to_le_bytes());
                }
                Kind::Sparse { len } => {
                    m.regular_files += 1;
                    m.sparse_files += 1;
                    m.file_apparent_bytes += len;
                    m.data_bytes += 2 * SPARSE_MARK.len() as u64;
                    fnv(&mut h, b"S");
                    fnv(&mut h, &len.to_le_bytes());
                }
                Kind::HardLink { target } => {
                    m.hard_links += 1;
                    fnv(&mut h, b"H");
                    fnv(&mut h, &target.to_le_bytes());
                }
                Kind::Symlink { target, class } => {
                    m.symlinks += 1;
                    m.symlink_apparent_bytes += target.len() as u64;
                    match class {
                        LinkClass::Dangling => m.dangling_symlinks += 1,
                        LinkClass::Loop => m.loop_symlinks += 1,
                        LinkClass::Ancestor => m.ancestor_symlinks += 1,
                        LinkClass::File | LinkClass::Dir => {}
                    }
                    fnv(&mut h, b"L");
                    fnv(&mut h, target);
                }
            }
            fnv(&mut h, &[0xff]);
        }
        m.find_type_f = m.regular_files + m.hard_links;
        m.total_apparent_bytes = m.file_apparent_bytes + m.symlink_apparent_bytes;
        m.plan_digest = format!("{h:016x}");
        m
    }

    /// The manifest as pretty JSON (one key per line, fixed order). It names
    /// no path, so equal plans give byte-identical manifests.
    pub fn to_json(&self) -> String {
        let nums: [(&str, u64); 21] = [
            ("entries_requested", self.entries_requested),
            ("seed", self.seed),
            ("total_entries", self.total_entries),
            ("dirs", self.dirs),
            ("regular_files", self.regular_files),
            ("hard_links", self.hard_links),
            ("find_type_f", self.find_type_f),
            ("symlinks", self.symlinks),
            ("dangling_symlinks", self.dangling_symlinks),
            ("loop_symlinks", self.loop_symlinks),
            ("ancestor_symlinks", self.ancestor_symlinks),
            ("sparse_files", self.sparse_files),
            ("empty_files", self.empty_files),
            ("non_utf8_names", self.non_utf8_names),
            ("name_max_names", self.name_max_names),
            ("max_depth", self.max_depth),
            ("max_rel_path_bytes", self.max_rel_path_bytes),
            ("file_apparent_bytes", self.file_apparent_bytes),
            ("symlink_apparent_bytes", self.symlink_apparent_bytes),
            ("total_apparent_bytes", self.total_apparent_bytes),
            ("data_bytes", self.data_bytes),
        ];
        let mut s = String::from("{\n");
        let _ = writeln!(
            s,
            "  \"generator\": \"fdu-datasets {}\",",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(s, "  \"shape\": \"{}\",", self.shape);
        for (k, v) in nums {
            let _ = writeln!(s, "  \"{k}\": {v},");
        }
        let _ = writeln!(s, "  \"plan_digest\": \"{}\"", self.plan_digest);
        s.push_str("}\n");
        s
    }
}

//! `--pin`: workers placed on fake NUMA topologies (`FDU_SYSFS_ROOT`), the
//! process's own affinity mask respected, and never an error: at worst no
//! pinning. Output never depends on placement.
mod common;

use std::ffi::OsString;
use std::path::Path;

use common::*;

/// The CPUs this process may run on (`Cpus_allowed_list`).
fn allowed() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_string();
    let mut cpus = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().unwrap()..=b.parse().unwrap()),
            None => cpus.push(part.parse().unwrap()),
        }
    }
    cpus
}

/// A fake sysfs: `nodes[i]` is node i's cpulist, `online` the online CPUs
/// (no file when `None`); no node directory at all when `nodes` is `None`.
fn sysfs(root: &Path, nodes: Option<&[&str]>, online: Option<&str>) {
    let cpu = root.join("devices/system/cpu");
    std::fs::create_dir_all(&cpu).unwrap();
    if let Some(online) = online {
        std::fs::write(cpu.join("online"), format!("{online}\n")).unwrap();
    }
    if let Some(nodes) = nodes {
        for (i, list) in nodes.iter().enumerate() {
            let node = root.join(format!("devices/system/node/node{i}"));
            std::fs::create_dir_all(&node).unwrap();
            std::fs::write(node.join("cpulist"), format!("{list}\n")).unwrap();
        }
    }
}

/// Run `fdu --stats -s` with the fake sysfs; return (stdout, the pin mode,
/// each worker's CPU column).
fn placed(
    t: &Tree,
    root: &Path,
    wrapper: &[&str],
    args: &[&str],
) -> (Vec<u8>, String, Vec<String>) {
    let mut argv: Vec<OsString> = oss(wrapper);
    argv.push(fdu_bin().into());
    argv.extend(oss(&["--stats", "-s"]));
    argv.extend(oss(args));
    argv.push("t".into());
    let r = run_argv(
        &argv,
        t.cwd(),
        &[("FDU_SYSFS_ROOT".into(), root.as_os_str().to_owned())],
    );
    assert_eq!(r.code, 0, "{}: {}", r.cmd, r.err_text());
    let err = r.err_text();
    assert_eq!(
        err.lines().filter(|l| l.contains("panicked")).count(),
        0,
        "{err}"
    );
    let pin = err
        .lines()
        .next()
        .and_then(|l| l.split("pin ").nth(1))
        .unwrap_or_else(|| panic!("no pin mode in {err}"))
        .to_string();
    let cpus: Vec<String> = err
        .lines()
        .skip_while(|l| !l.starts_with("worker"))
        .skip(1)
        .map(|l| l.split_whitespace().nth(4).unwrap().to_string())
        .collect();
    (r.stdout, pin, cpus)
}

fn tree() -> Tree {
    let t = Tree::new();
    for d in 0..20 {
        t.mkdir(format!("t/d{d}/e"));
        t.file(format!("t/d{d}/e/f"), d * 1000);
    }
    t
}

#[test]
fn two_nodes_spread_workers_and_pin_by_node() {
    let cpus = allowed();
    if cpus.len() < 2 {
        eprintln!("SKIPPED: needs two allowed CPUs, have {cpus:?}");
        return;
    }
    let (a, b) = (cpus[0].to_string(), cpus[1].to_string());
    let t = tree();
    let fake = scratch();
    sysfs(fake.path(), Some(&[&a, &b]), None);
    let (reference, pin, _) = placed(&t, fake.path(), &[], &["--pin", "none", "-j", "4"]);
    assert_eq!(pin, "none");

    let (out, pin, workers) = placed(&t, fake.path(), &[], &["-j", "4"]);
    assert_eq!(pin, "numa", "auto picks numa on two nodes");
    assert_eq!(
        workers,
        [&a, &b, &a, &b].map(String::as_str),
        "workers alternate between the nodes"
    );
    assert_eq!(out, reference);

    let (out, pin, workers) = placed(&t, fake.path(), &[], &["--pin", "cpu", "-j", "3"]);
    assert_eq!(pin, "cpu");
    assert_eq!(workers, [&a, &b, &a].map(String::as_str));
    assert_eq!(out, reference);
}

#[test]
fn four_nodes_with_cpus_outside_the_mask_keep_only_usable_nodes() {
    let cpus = allowed();
    if cpus.len() < 2 {
        eprintln!("SKIPPED: needs two allowed CPUs, have {cpus:?}");
        return;
    }
    let (a, b) = (cpus[0].to_string(), cpus[1].to_string());
    // Nodes 2 and 3 hold CPUs this process may not use.
    let t = tree();
    let fake = scratch();
    sysfs(fake.path(), Some(&[&a, &b, "5000-5003", "6000"]), None);
    let (_, pin, workers) = placed(&t, fake.path(), &[], &["-j", "4"]);
    assert_eq!(pin, "numa");
    assert_eq!(
        workers,
        [&a, &b, &a, &b].map(String::as_str),
        "never pinned outside the mask"
    );
}

#[test]
fn offline_cpus_and_a_restricted_mask_leave_one_node() {
    let cpus = allowed();
    if cpus.len() < 2 {
        eprintln!("SKIPPED: needs two allowed CPUs, have {cpus:?}");
        return;
    }
    let (a, b) = (cpus[0].to_string(), cpus[1].to_string());
    let t = tree();
    // The second node's only CPU is offline: one node, so auto pins nothing.
    let fake = scratch();
    sysfs(fake.path(), Some(&[&a, &b]), Some(&a));
    let (_, pin, workers) = placed(&t, fake.path(), &[], &["-j", "2"]);
    assert_eq!(pin, "none");
    assert_eq!(workers, ["any", "any"]);
    let (_, pin, workers) = placed(&t, fake.path(), &[], &["--pin", "cpu", "-j", "2"]);
    assert_eq!(pin, "cpu");
    assert_eq!(workers, [&a, &a].map(String::as_str), "only the online CPU");

    // The affinity mask (taskset) allows one CPU: the same, from the mask.
    if !have_tool("taskset") {
        eprintln!("SKIPPED: taskset (util-linux) is not installed");
        return;
    }
    let fake = scratch();
    sysfs(fake.path(), Some(&[&a, &b]), None);
    let (_, pin, _) = placed(&t, fake.path(), &["taskset", "-c", &b], &["-j", "2"]);
    assert_eq!(pin, "none");
    let (_, pin, workers) = placed(
        &t,
        fake.path(),
        &["taskset", "-c", &b],
        &["--pin", "numa", "-j", "2"],
    );
    assert_eq!(pin, "numa");
    assert_eq!(workers, [&b, &b].map(String::as_str));
}

#[test]
fn missing_or_broken_topology_is_never_an_error() {
    let cpus = allowed();
    let all = if cpus.len() > 1 {
        format!("{}-{}", cpus[0], cpus[cpus.len() - 1])
    } else {
        cpus[0].to_string()
    };
    let contiguous = cpus.windows(2).all(|w| w[1] == w[0] + 1);
    let t = tree();
    // No /sys/devices/system/node at all (as in some containers).
    let fake = scratch();
    sysfs(fake.path(), None, None);
    let (reference, pin, workers) = placed(&t, fake.path(), &[], &["-j", "2"]);
    assert_eq!(pin, "none");
    assert_eq!(workers, ["any", "any"]);
    let (out, pin, workers) = placed(&t, fake.path(), &[], &["--pin", "numa", "-j", "2"]);
    assert_eq!(pin, "numa");
    if contiguous {
        assert_eq!(
            workers,
            [&all, &all].map(String::as_str),
            "one node of every allowed CPU"
        );
    }
    assert_eq!(out, reference);

    // Garbage cpulists and a sysfs root that does not exist.
    let fake = scratch();
    sysfs(fake.path(), Some(&["zero-one", "", "7-3"]), Some("x"));
    let (out, pin, _) = placed(&t, fake.path(), &[], &["--pin", "cpu", "-j", "2"]);
    assert_eq!(pin, "cpu");
    assert_eq!(out, reference);
    let (out, _, _) = placed(&t, &fake.path().join("nowhere"), &[], &["-j", "2"]);
    assert_eq!(out, reference);
}

#[test]
fn pin_values_are_checked() {
    let t = tree();
    let r = t.fdu(&["--pin", "sockets", "t"]);
    assert_eq!(r.code, 2, "{}", r.err_text());
    assert_eq!(
        r.err_text(),
        "fdu: invalid value 'sockets' for '--pin <MODE>'\n\
         Try 'fdu --help' for more information.\n"
    );
    assert!(r.err_text().contains("--pin"), "{}", r.err_text());
}

//! Threads blocked in every primitive the workloads wait in, signalled by
//! the sampler at least 10,000 times each, resume as if nothing happened:
//! no lost wake-up (a hang), no `EINTR` seen by their code, no sleep cut
//! short, and every op done.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{register_current_thread, set_window, signal, WallProfiler};
use crate::os::threads::current_tid;

/// Signals every thread must take.
const SIGNALS: u64 = 10_000;

type Worker = std::thread::JoinHandle<Result<u64, String>>;

/// Runs `op` on a registered thread inside its window until `done`;
/// sends its tid first, and returns its op count or its first error.
fn spawn(
    label: &'static str,
    tids: &mpsc::Sender<(&'static str, i32)>,
    done: &Arc<AtomicBool>,
    mut op: impl FnMut() -> Result<(), String> + Send + 'static,
) -> Worker {
    let (tids, done) = (tids.clone(), Arc::clone(done));
    std::thread::spawn(move || {
        register_current_thread(label);
        set_window(current_tid(), true);
        tids.send((label, current_tid() as i32)).unwrap();
        let mut ops = 0;
        while !done.load(Ordering::Acquire) {
            op().map_err(|e| format!("{label}: {e}"))?;
            ops += 1;
        }
        Ok(ops)
    })
}

#[test]
fn threads_blocked_in_every_primitive_resume_after_10000_signals_each() {
    let profiler = WallProfiler::start_every(Duration::from_micros(20)).expect("armed");
    let done = Arc::new(AtomicBool::new(false));
    let (tids, tid_receiver) = mpsc::channel();
    let mut workers: Vec<(&str, Worker)> = Vec::new();

    // Two threads fight over a mutex held a little while.
    let counter = Arc::new(Mutex::new(0u64));
    for label in ["mutex-a", "mutex-b"] {
        let counter = Arc::clone(&counter);
        let op = move || {
            let mut value = counter.lock().map_err(|e| e.to_string())?;
            *value += 1;
            std::thread::sleep(Duration::from_micros(20));
            Ok(())
        };
        workers.push((label, spawn(label, &tids, &done, op)));
    }
    // Two threads take turns through a condvar.
    let turn = Arc::new((Mutex::new(0u64), Condvar::new()));
    for (label, me) in [("condvar-a", 0u64), ("condvar-b", 1u64)] {
        let (turn, stop) = (Arc::clone(&turn), Arc::clone(&done));
        let op = move || {
            let (lock, changed) = &*turn;
            let mut value = lock.lock().map_err(|e| e.to_string())?;
            while *value % 2 != me {
                if stop.load(Ordering::Acquire) {
                    return Ok(());
                }
                value = changed
                    .wait_timeout(value, Duration::from_millis(20))
                    .map_err(|e| e.to_string())?
                    .0;
            }
            *value += 1;
            changed.notify_all();
            Ok(())
        };
        workers.push((label, spawn(label, &tids, &done, op)));
    }
    // A receiver waits on a bounded channel for a slow sender.
    let (sender, receiver) = crossbeam_channel::bounded::<u64>(1);
    // Held to the end, so neither side sees the other hang up when the
    // threads stop one by one.
    let _both_ends = (sender.clone(), receiver.clone());
    let (sent, received) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    {
        let sent = Arc::clone(&sent);
        let op = move || {
            std::thread::sleep(Duration::from_micros(30));
            match sender.send_timeout(1, Duration::from_millis(20)) {
                Ok(()) => {
                    sent.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(crossbeam_channel::SendTimeoutError::Timeout(_)) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        };
        workers.push(("channel-send", spawn("channel-send", &tids, &done, op)));
        let received = Arc::clone(&received);
        let op = move || match receiver.recv_timeout(Duration::from_millis(20)) {
            Ok(n) => {
                received.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Ok(()),
            Err(e) => Err(e.to_string()),
        };
        workers.push(("channel-recv", spawn("channel-recv", &tids, &done, op)));
    }
    // A socket read of bytes the test writes one at a time.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    // No receive timeout, as the workloads' sockets: Linux restarts a read
    // under SA_RESTART only then (signal(7)); ureq, which sets one,
    // retries an interrupted read itself.
    let (mut reader, _) = listener.accept().unwrap();
    let bytes_read = Arc::new(AtomicU64::new(0));
    {
        let bytes_read = Arc::clone(&bytes_read);
        // A plain read: an EINTR would surface here as `Interrupted`.
        let op = move || {
            let mut byte = [0u8; 1];
            match reader.read(&mut byte) {
                Ok(n) => {
                    bytes_read.fetch_add(n as u64, Ordering::Relaxed);
                    Ok(())
                }
                Err(e) => Err(format!("read failed: {e} ({:?})", e.kind())),
            }
        };
        workers.push(("socket-read", spawn("socket-read", &tids, &done, op)));
    }
    // A sleep must not be cut short.
    let op = || {
        let start = Instant::now();
        std::thread::sleep(Duration::from_micros(200));
        let slept = start.elapsed();
        (slept >= Duration::from_micros(200))
            .then_some(())
            .ok_or_else(|| format!("a 200 us sleep returned after {slept:?}"))
    };
    workers.push(("sleep", spawn("sleep", &tids, &done, op)));
    drop(tids);
    let tids: Vec<(&str, i32)> = tid_receiver.iter().take(workers.len()).collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut bytes_written = 0u64;
    while tids.iter().any(|(_, tid)| signal::handled(*tid) < SIGNALS) {
        assert!(
            Instant::now() < deadline,
            "too few signals: {:?}",
            tids.iter()
                .map(|(label, tid)| (label, signal::handled(*tid)))
                .collect::<Vec<_>>()
        );
        if let Some(at) = workers.iter().position(|(_, w)| w.is_finished()) {
            let (label, worker) = workers.swap_remove(at);
            panic!("{label} stopped early: {:?}", worker.join());
        }
        writer.write_all(b"x").unwrap();
        bytes_written += 1;
        std::thread::sleep(Duration::from_micros(200));
    }
    done.store(true, Ordering::Release);
    // The reader's last read ends with the stream.
    writer.shutdown(std::net::Shutdown::Write).unwrap();
    let signals: Vec<(&str, u64)> = tids
        .iter()
        .map(|(label, tid)| (*label, signal::handled(*tid)))
        .collect();
    drop(profiler.finish());
    let mut ops = std::collections::BTreeMap::new();
    for (label, worker) in workers {
        let result = worker.join().expect("no worker panics");
        ops.insert(label, result.unwrap_or_else(|e| panic!("{e}")));
    }
    assert!(signals.iter().all(|(_, n)| *n >= SIGNALS), "{signals:?}");
    // Every op done: no increment, turn, message or byte lost.
    assert_eq!(*counter.lock().unwrap(), ops["mutex-a"] + ops["mutex-b"]);
    assert!(
        *turn.0.lock().unwrap() > 100,
        "the condvar hand-off stalled"
    );
    let (sent, received) = (
        sent.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
    );
    assert!(
        received + 1 >= sent && received <= sent,
        "{sent} sent, {received} received"
    );
    let read = bytes_read.load(Ordering::Relaxed);
    assert!(
        read + 64 >= bytes_written && read <= bytes_written,
        "{bytes_written} written, {read} read"
    );
}

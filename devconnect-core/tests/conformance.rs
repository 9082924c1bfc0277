//! The store conformance suite (`devconnect_core::testkit`) on every backend built in:
//! one trial per backend and behaviour, named `backend::area::behaviour`, each on a fresh
//! store and a current-thread runtime of its own (as `#[tokio::test]` would run it).
//!
//! A `libtest-mimic` harness (`harness = false`) because the behaviours are listed at run
//! time, by `testkit::all_behaviours()`: a behaviour cannot be left out of a hand-written
//! list. It takes the usual test flags (a name filter, `--exact`, `--list`,
//! `--test-threads`) and prints the usual `test result:` line. The MongoDB trials (with
//! the `mongodb` feature) need a server: run under `scripts/with-jongodb.sh`.

use devconnect_core::testkit::{self, Backend, Behaviour};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let trials = testkit::backends()
        .into_iter()
        .flat_map(|backend| {
            testkit::all_behaviours().map(move |(area, behaviour)| {
                Trial::test(format!("{}::{area}::{}", backend.name, behaviour.name), move || run(backend, behaviour))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run(backend: Backend, behaviour: &Behaviour) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime
        .block_on(async {
            let store = (backend.open)().await?;
            (behaviour.run)(store).await
        })
        // Debug, as a failing `#[test]` reports its error: an internal error's Display
        // hides its cause.
        .map_err(|err| format!("{err:?}").into())
}

//! What every command needs from its surroundings: where the files are, the HTTP client, where
//! progress goes (the CLI's spinner or heartbeat; core never prints), and the run's own state
//! (its interrupt and the login claim it holds), which the binary creates and keeps: two runs
//! in one process each have their own.

use crate::claim::Claim;
use crate::http::{Http, Progress};
use crate::interrupt::Interrupt;
use crate::store::Paths;

pub struct Context<'a> {
    pub paths: Paths,
    pub http: Http,
    pub progress: &'a dyn Progress,
    pub interrupt: &'a Interrupt,
    pub claim: &'a Claim,
}
